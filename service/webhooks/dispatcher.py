"""The dispatcher: leases due deliveries, sends them from a thread pool with SPEC §5's
retry schedule, and records every attempt."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from adapters.tables.instants import iso
from adapters.tables.webhook_deliveries import AttemptRow, Claimed
from adapters.tables.webhook_endpoints import EndpointRow
from adapters.tables.webhooks import WebhookTables
from adapters.webhook_sender import SendResult, WebhookSender
from service.metrics import WEBHOOK_DELIVERIES, WEBHOOK_DELIVERY_LAG
from service.webhooks.ids import new_id
from service.webhooks.policy import disabling

log = logging.getLogger(__name__)

# SPEC §5: the wait before each retry; the first attempt is immediate, so ten in all.
RETRY_DELAYS = tuple(
    timedelta(seconds=s)
    for s in (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600)
)
JITTER = 0.1  # ±10%, so receivers that failed together are not retried together
LEASE = timedelta(seconds=60)  # longer than one send (15 s timeout) with room to spare


def retry_delay(
    attempts_made: int, retry_after: float | None, rng: random.Random
) -> timedelta | None:
    """The wait before the next attempt after `attempts_made` failures; None when the
    schedule is exhausted. A receiver's Retry-After (429/503) replaces the schedule's wait."""
    if attempts_made > len(RETRY_DELAYS):
        return None
    if retry_after is not None:
        return timedelta(seconds=min(max(retry_after, 1.0), 24 * 3600))
    return RETRY_DELAYS[attempts_made - 1] * rng.uniform(1 - JITTER, 1 + JITTER)


class WebhookDispatcher:
    """Sends due deliveries. At most `per_endpoint` sends per endpoint are in flight in this
    process, so a slow receiver occupies a few threads, not the pool; each finished send
    rings `on_slot_free` (the worker's Waker) so the next claim follows at once."""

    def __init__(
        self,
        tables: WebhookTables,
        sender: WebhookSender,
        box: Any,
        clock: Any,
        *,
        max_workers: int = 32,
        per_endpoint: int = 8,
        batch: int = 64,
        rng: random.Random | None = None,
        on_slot_free: Callable[[], None] | None = None,
    ) -> None:
        self.tables = tables
        self.sender = sender
        self.box = box
        self.clock = clock
        self.max_workers = max_workers
        self.per_endpoint = per_endpoint
        self.batch = batch
        self.rng = rng or random.Random()
        self.on_slot_free = on_slot_free
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="webhook-send")
        self._busy: dict[str, int] = {}
        self._lock = threading.Lock()

    def claim(self) -> list[Claimed]:
        """Leases what is due now, topping each endpoint up to `per_endpoint` sends in
        flight, and no more than the pool can start at once: a claim waiting in a queue
        could outlive its lease and be sent twice."""
        now = self.clock.now()
        with self._lock:
            in_flight = dict(self._busy)
            free = self.max_workers - sum(in_flight.values())
        if free <= 0:
            return []
        claimed = self.tables.claim(
            iso(now) or "",
            iso(now + LEASE) or "",
            uuid4().hex,
            limit=min(self.batch, free),
            per_endpoint=self.per_endpoint,
            in_flight=in_flight,
        )
        with self._lock:
            for c in claimed:
                self._busy[c.endpoint.id] = self._busy.get(c.endpoint.id, 0) + 1
        return claimed

    def run_once(self, *, wait: bool = True) -> int:
        """Claims and sends what is due; returns how many deliveries were attempted. The
        worker loop passes wait=False so a slow receiver never delays the next pass."""
        futures = [self._pool.submit(self.deliver, c) for c in self.claim()]
        if wait:
            for f in futures:
                f.result()
        return len(futures)

    def deliver(self, claimed: Claimed) -> None:
        d, endpoint = claimed.delivery, claimed.endpoint
        try:
            result = self.sender.send(
                endpoint.url, d.event_id, claimed.body, self._secrets(endpoint)
            )
            self._record(claimed, result)
        except Exception:  # the lease lapses and another pass retries it
            log.exception("webhook delivery %s failed unexpectedly", d.id)
        finally:
            with self._lock:
                self._busy[endpoint.id] = self._busy.get(endpoint.id, 1) - 1
                if not self._busy[endpoint.id]:
                    del self._busy[endpoint.id]
            if self.on_slot_free is not None:
                self.on_slot_free()

    def _secrets(self, endpoint: EndpointRow) -> list[str]:
        found = [self.box.decrypt(endpoint.secret_encrypted)]
        expires = endpoint.previous_secret_expires_at
        if endpoint.previous_secret_encrypted and expires and expires > iso(self.clock.now()):
            found.append(self.box.decrypt(endpoint.previous_secret_encrypted))
        return found

    def _record(self, claimed: Claimed, result: SendResult) -> None:
        now = self.clock.now()
        code = result.status_code
        attempt = AttemptRow(
            id=new_id("wa"),
            delivery_id=claimed.delivery.id,
            attempted_at=iso(now) or "",
            status_code=code,
            latency_ms=result.latency_ms,
            response_body=result.body,
            error=result.error,
        )
        next_at = None
        if code is not None and 200 <= code < 300:
            status, outcome = "succeeded", "ok"
        elif code == 410:  # the receiver says the endpoint is gone for good
            status, outcome = "failed", "gone"
        else:
            delay = retry_delay(claimed.delivery.attempt_count + 1, result.retry_after, self.rng)
            status, outcome = ("failed", "failing") if delay is None else ("pending", "failing")
            next_at = None if delay is None else iso(now + delay)
        self.tables.finish(
            claimed,
            attempt,
            status=status,
            next_attempt_at=next_at,
            disable=disabling(outcome, now),
        )
        WEBHOOK_DELIVERIES.labels(status if status != "pending" else "retrying").inc()
        if status == "succeeded":
            lag = now - datetime.fromisoformat(claimed.delivery.created_at)
            WEBHOOK_DELIVERY_LAG.observe(max(0.0, lag.total_seconds()))
        log.info(
            "webhook delivery %s to endpoint %s: %s (%s)",
            claimed.delivery.id,
            claimed.endpoint.id,
            code or result.error,
            status,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True)

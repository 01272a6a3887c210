"""Webhooks: endpoint management, the outbox that follows the event log, the dispatcher.

A request handler never sends a webhook. The outbox turns each committed event into one
delivery per subscribed endpoint, in the same transaction that moves its tracking position
(so a crash between commit and send loses nothing, and no event is fanned out twice). The
dispatcher leases due deliveries, sends them from a thread pool, and records every attempt.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import msgspec

from adapters.tables import iso
from adapters.webhook_sender import SendResult, UnsafeUrl, WebhookSender, new_secret
from adapters.webhook_tables import (
    AttemptRow,
    Claimed,
    DeliveryRow,
    EndpointRow,
    EventRow,
    WebhookTables,
)
from domain.connection import EVENT_TYPES, Connection, event_type
from domain.exceptions import NotFound, ValidationFailed
from service.metrics import WEBHOOK_DELIVERIES, WEBHOOK_DELIVERY_LAG
from service.presenters import connection_json, event_id, rfc3339

log = logging.getLogger(__name__)

WEBHOOK_EVENT_TYPES = frozenset({f"connection.{t}" for t in EVENT_TYPES.values()} | {"*"})
# SPEC §5: the wait before each retry; the first attempt is immediate, so ten in all.
RETRY_DELAYS = tuple(
    timedelta(seconds=s)
    for s in (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600)
)
JITTER = 0.1  # ±10%, so receivers that failed together are not retried together
FAILING_LIMIT = timedelta(days=5)
ROTATION_OVERLAP = timedelta(hours=24)  # the old secret keeps signing this long
LEASE = timedelta(seconds=60)  # longer than one send (15 s timeout) with room to spare
REPLAY_LIMIT = 10_000
PRUNE_EVERY = timedelta(minutes=1)  # how often the worker looks for expired rows
PRUNE_BATCH = 1_000


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid4().hex}"


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


# ------------------------------------------------------------------------------ endpoints


class WebhookEndpoints:
    """What a tenant manages through the API."""

    def __init__(
        self,
        tables: WebhookTables,
        sender: WebhookSender,
        box: Any,
        clock: Any,
        on_queued: Callable[[], None] = lambda: None,
    ):
        self.tables = tables
        self.sender = sender
        self.box = box
        self.clock = clock
        self.on_queued = on_queued  # rings this process's worker (redelivery, replay)

    def create(
        self,
        tenant_id: str,
        *,
        url: str,
        event_types: Sequence[str],
        description: str | None = None,
        enabled: bool = True,
    ) -> tuple[EndpointRow, str]:
        """The new endpoint and its signing secret, which is shown this once."""
        self._check_url(url)
        secret = new_secret()
        now = iso(self.clock.now()) or ""
        row = EndpointRow(
            id=_new_id("we"),
            tenant_id=tenant_id,
            url=url,
            description=description,
            event_types=_event_types(event_types),
            enabled=enabled,
            disabled_reason=None if enabled else "manual",
            secret_encrypted=self.box.encrypt(secret),
            previous_secret_encrypted=None,
            previous_secret_expires_at=None,
            failing_since=None,
            created_at=now,
            updated_at=now,
        )
        self.tables.insert_endpoint(row)
        return row, secret

    def get(self, tenant_id: str, endpoint_id: str) -> EndpointRow:
        row = self.tables.endpoint(tenant_id, endpoint_id)
        if row is None:
            raise NotFound(f"No webhook endpoint {endpoint_id!r}.")
        return row

    def list(self, tenant_id: str, limit: int, starting_after: str | None) -> list[EndpointRow]:
        cursor = None
        if starting_after is not None:
            cursor = self.tables.endpoint(tenant_id, starting_after)
            if cursor is None:
                raise ValidationFailed(f"starting_after names no endpoint {starting_after!r}.")
        return self.tables.endpoints(tenant_id, limit, cursor)

    def update(
        self,
        tenant_id: str,
        endpoint_id: str,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> EndpointRow:
        row = self.get(tenant_id, endpoint_id)
        changes: dict[str, Any] = {"updated_at": iso(self.clock.now())}
        if url is not None:
            self._check_url(url)
            changes["url"] = url
        if event_types is not None:
            changes["event_types"] = _event_types(event_types)
        if description is not None:
            changes["description"] = description
        if enabled is not None and enabled != row.enabled:
            # Re-enabling starts a fresh failure streak; a person disabling says so.
            changes.update(
                enabled=enabled, failing_since=None, disabled_reason=None if enabled else "manual"
            )
        row = replace(row, **changes)
        self.tables.update_endpoint(row)
        return row

    def delete(self, tenant_id: str, endpoint_id: str) -> None:
        if not self.tables.delete_endpoint(tenant_id, endpoint_id):
            raise NotFound(f"No webhook endpoint {endpoint_id!r}.")

    def rotate_secret(self, tenant_id: str, endpoint_id: str) -> tuple[EndpointRow, str]:
        """A new secret, shown this once; the old one also signs for ROTATION_OVERLAP, so
        receivers can switch without dropping deliveries (Standard Webhooks allows several
        signatures in one header)."""
        row = self.get(tenant_id, endpoint_id)
        secret = new_secret()
        now = self.clock.now()
        row = replace(
            row,
            secret_encrypted=self.box.encrypt(secret),
            previous_secret_encrypted=row.secret_encrypted,
            previous_secret_expires_at=iso(now + ROTATION_OVERLAP),
            updated_at=iso(now),
        )
        self.tables.update_endpoint(row)
        return row, secret

    def deliveries(
        self,
        tenant_id: str,
        endpoint_id: str,
        limit: int,
        starting_after: str | None = None,
        status: str | None = None,
    ) -> list[tuple[DeliveryRow, list[AttemptRow]]]:
        self.get(tenant_id, endpoint_id)
        cursor = None
        if starting_after is not None:
            cursor = self.tables.delivery(tenant_id, starting_after)
            if cursor is None:
                raise ValidationFailed(f"starting_after names no delivery {starting_after!r}.")
        rows = self.tables.deliveries(endpoint_id, limit, cursor, status)
        return self._with_attempts(rows)

    def delivery(self, tenant_id: str, delivery_id: str) -> tuple[DeliveryRow, list[AttemptRow]]:
        row = self.tables.delivery(tenant_id, delivery_id)
        if row is None:
            raise NotFound(f"No webhook delivery {delivery_id!r}.")
        return self._with_attempts([row])[0]

    def redeliver(self, tenant_id: str, delivery_id: str) -> tuple[DeliveryRow, list[AttemptRow]]:
        """A new delivery of the same event (same webhook-id and body), due now."""
        original, _ = self.delivery(tenant_id, delivery_id)
        [new] = self.tables.add_deliveries(
            tenant_id,
            original.endpoint_id,
            [original.event_id],
            "redelivery",
            iso(self.clock.now()) or "",
            lambda: _new_id("wd"),
        )
        self.on_queued()
        return self.delivery(tenant_id, new)

    def replay(self, tenant_id: str, endpoint_id: str, start: datetime, end: datetime) -> int:
        """Queues the endpoint's subscribed events that occurred in [start, end) again."""
        endpoint = self.get(tenant_id, endpoint_id)
        if end <= start:
            raise ValidationFailed("to must be after from.")
        events = self.tables.events_between(
            tenant_id, iso(start) or "", iso(end) or "", REPLAY_LIMIT + 1
        )
        if len(events) > REPLAY_LIMIT:
            raise ValidationFailed(
                f"More than {REPLAY_LIMIT} events in that range; replay a shorter one."
            )
        ids = [event for event, kind in events if endpoint.subscribes_to(kind)]
        self.tables.add_deliveries(
            tenant_id,
            endpoint_id,
            ids,
            "replay",
            iso(self.clock.now()) or "",
            lambda: _new_id("wd"),
        )
        self.on_queued()
        return len(ids)

    def _with_attempts(self, rows: list[DeliveryRow]) -> list[tuple[DeliveryRow, list[AttemptRow]]]:
        attempts = self.tables.attempts([r.id for r in rows])
        return [(r, [a for a in attempts if a.delivery_id == r.id]) for r in rows]

    def _check_url(self, url: str) -> None:
        try:
            self.sender.check(url)
        except UnsafeUrl as e:
            raise ValidationFailed(f"{e}.", field="url") from None


def _event_types(given: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(given) - WEBHOOK_EVENT_TYPES)
    if unknown:
        raise ValidationFailed(
            f"Unknown event types: {', '.join(unknown)}. Use '*' or any of "
            f"{', '.join(sorted(WEBHOOK_EVENT_TYPES - {'*'}))}.",
            field="event_types",
        )
    if not given:
        raise ValidationFailed(
            "event_types must name at least one type, or '*'.", field="event_types"
        )
    return tuple(dict.fromkeys(given))


# --------------------------------------------------------------------------------- outbox


class WebhookOutbox:
    """Follows the notification log like the read model does (compare-and-set on a
    tracking position), so any number of processes may run it and each event is fanned
    out exactly once."""

    name = "webhook_outbox"

    def __init__(self, app: Any, tables: WebhookTables, clock: Any, batch: int = 200) -> None:
        self.app = app
        self.tables = tables
        self.clock = clock
        self.batch = batch

    def catch_up(self) -> int:
        """Processes everything recorded so far; returns how many deliveries it created."""
        made = 0
        while True:
            position = self.tables.position(self.name)
            notifications = self.app.recorder.select_notifications(
                start=position + 1, limit=self.batch
            )
            if not notifications:
                return made
            rows = self._event_rows(notifications)
            created = self.tables.record(
                self.name,
                position,
                notifications[-1].id,
                rows,
                iso(self.clock.now()) or "",
                lambda: _new_id("wd"),
            )
            made += created or 0  # None: another process took this batch; read again

    def _event_rows(self, notifications: Any) -> list[EventRow]:
        """Each event with the connection as of that event, replayed with the aggregate's
        own event code from the state just before the batch."""
        states: dict[Any, Connection | None] = {}
        rows = []
        for notification in notifications:
            e = self.app.mapper.to_domain_event(notification)
            if type(e) not in EVENT_TYPES:
                continue
            key = e.originator_id
            if key not in states:
                states[key] = (
                    None
                    if e.originator_version == 1
                    else self.app.repository.get(key, version=e.originator_version - 1)
                )
            connection = states[key] = e.mutate(states[key])
            rows.append(_event_row(e, connection, notification.id))
        return rows


def _event_row(e: Any, connection: Connection, notification_id: int) -> EventRow:
    kind = f"connection.{event_type(e)}"
    eid = event_id(e.originator_id, e.originator_version)
    body = {
        "type": kind,
        "timestamp": rfc3339(e.timestamp),
        "data": {
            "connection": connection_json(connection),
            "event": {
                "id": eid,
                "type": kind,
                "occurred_at": rfc3339(e.timestamp),
                "actor": (e.meta or {}).get("actor"),
            },
        },
    }
    return EventRow(
        id=eid,
        tenant_id=connection.tenant_id,
        type=kind,
        connection_id=str(e.originator_id),
        occurred_at=iso(e.timestamp) or "",
        notification_id=notification_id,
        body=msgspec.json.encode(body).decode(),
    )


# ----------------------------------------------------------------------------- dispatcher


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
            id=_new_id("wa"),
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
            endpoint_outcome=outcome,
            failing_cutoff=iso(now - FAILING_LIMIT) or "",
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


# ---------------------------------------------------------------------------------- wiring


@dataclass
class Webhooks:
    endpoints: WebhookEndpoints
    outbox: WebhookOutbox
    dispatcher: WebhookDispatcher
    sender: WebhookSender
    tables: WebhookTables
    clock: Any
    retention: timedelta
    _pruned_at: datetime | None = None

    def run_once(self, *, wait: bool = True) -> int:
        """One worker pass: fan out new events, then send what is due."""
        self.outbox.catch_up()
        return self.dispatcher.run_once(wait=wait)

    def prune(self) -> int:
        """Drops what is older than the retention (finished deliveries with their
        attempts, then events left without deliveries), one batch at a time, at most
        once per PRUNE_EVERY unless a batch was full; returns the deliveries and events
        removed."""
        now = self.clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return 0
        removed = self.tables.prune(iso(now - self.retention) or "", PRUNE_BATCH)
        self._pruned_at = None if removed >= PRUNE_BATCH else now  # more left: go again
        return removed

    def close(self) -> None:
        self.dispatcher.close()
        self.sender.close()


def build_webhooks(services: Any) -> Webhooks:
    tables = WebhookTables(services.tables)
    tables.create()
    sender = WebhookSender(allow_private=services.settings.webhook_allow_private)
    return Webhooks(
        endpoints=WebhookEndpoints(
            tables, sender, services.box, services.clock, on_queued=services.waker.wake
        ),
        outbox=WebhookOutbox(services.app, tables, services.clock),
        dispatcher=WebhookDispatcher(
            tables, sender, services.box, services.clock, on_slot_free=services.waker.wake
        ),
        sender=sender,
        tables=tables,
        clock=services.clock,
        retention=services.settings.webhook_retention,
    )

"""Firing deadlines and watching refresh tokens: what the service does when nobody calls.

Both are ordinary commands through the application services (load → command → save) with
the actor `system:deadlines`, so they land in the history and webhooks follow the log. Any
number of runners may share one store: a lost race is a VersionConflict, after which the
connection is reloaded and asked again what is due, so nothing is fired twice
(service.connections.conflicts). What a refused refresh records is the token path's own
rule (domain.refusals, through service.credentials.outcomes).
"""

from __future__ import annotations

import logging
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.amazon import AmazonError
from adapters.tables.instants import iso
from adapters.tables.refresh_checks import RefreshChecksTables
from domain import lifecycle as lc
from domain.access import SP_API, AccessRefused
from domain.connection import Connection, Context
from domain.deadlines import due_now
from domain.exceptions import NotFound
from domain.refusals import UNAVAILABLE
from service.api.edge.instants import BOUNDS, NotAnInstant
from service.api.edge.instants import parse as parse_instant
from service.connections.conflicts import retry_on_conflict
from service.metrics import DEADLINES_FIRED

log = logging.getLogger(__name__)

ACTOR = "system:deadlines"
# Checking a refresh token proves the owner has not revoked access; Amazon's access tokens
# live an hour, but one check a day per connection finds revocations without hammering LWA.
REFRESH_CHECK_INTERVAL = timedelta(days=1)
_MAX_STEPS = 20  # firings per connection per run: a guard against loops


class Deadlines:
    def __init__(self, services: Any, batch: int = 100) -> None:
        self.services = services
        self.batch = batch
        self.failed = 0  # connections whose firing raised during the last run

    def run_once(self, now: datetime | None = None) -> int:
        """Fires everything due by `now` (default: the clock); returns how many commands."""
        now = now or self.services.clock.now()
        run_id = f"deadlines_{uuid.uuid4().hex[:16]}"
        self.services.connections.fresh_view()
        fired, failed = 0, set()
        passed: set[str] = set()  # rows still due after their turn (failed, or read model lag)
        while True:
            due = self.services.view.due_by(iso(now), self.batch + len(passed))
            ids = [i for i in due if i not in passed]
            if not ids:
                self.failed = len(failed)
                return fired
            for connection_id in ids:
                count, settled = self._fire(connection_id, now, run_id)
                fired += count
                if not settled:
                    failed.add(connection_id)
                if count == 0 or not settled:
                    passed.add(connection_id)

    def _fire(self, connection_id: str, now: datetime, run_id: str) -> tuple[int, bool]:
        """Fires the connection's due deadlines one by one; (how many, whether it settled)."""

        def fire_due(c: Connection) -> str | None:
            due = due_now(c, now)
            if due is None:
                return None
            trigger, arguments = due
            getattr(c, trigger)(_context(c, now, run_id), **arguments)
            return trigger

        fired = 0
        try:
            for _ in range(_MAX_STEPS):
                trigger = retry_on_conflict(
                    lambda: _load(self.services, connection_id),
                    fire_due,
                    self.services.connections.save,
                )
                if trigger is None:
                    return fired, True
                log.info("deadline %s fired on %s", trigger, connection_id)
                DEADLINES_FIRED.labels(trigger).inc()
                fired += 1
            log.error("deadlines on %s did not settle after %d steps", connection_id, _MAX_STEPS)
        except Exception:
            log.exception("firing deadlines on %s failed; the next run retries", connection_id)
        return fired, False


class RefreshHealth:
    """Proves each active connection's grant once per `interval`, through the shared
    access-token cache: a token still fresh proves it without asking LWA, and a refresh
    made here is the token the next caller gets (so the check costs no refresh of its own).
    """

    def __init__(
        self,
        services: Any,
        interval: timedelta = REFRESH_CHECK_INTERVAL,
        batch: int = 100,
        amazon: Any = None,
    ) -> None:
        self.services = services
        self.interval = interval
        self.batch = batch
        self.amazon = amazon or services.amazon
        self.checks = RefreshChecksTables(services.tables)
        self.checked = 0  # refreshes attempted during the last run

    def run_once(self, now: datetime | None = None) -> int:
        """Checks what is stale by `now`; returns how many commands it recorded."""
        now = now or self.services.clock.now()
        run_id = f"refresh_{uuid.uuid4().hex[:16]}"
        self.services.connections.fresh_view()
        before, recorded, self.checked = iso(now - self.interval), 0, 0
        while True:
            claimed = [
                i
                for i in self.checks.stale(before, self.batch)
                if self.checks.claim(i, iso(now), before)
            ]
            if not claimed:  # nothing stale, or every one taken by another worker
                return recorded
            for connection_id in claimed:
                self.checked += 1
                try:
                    recorded += self._check(connection_id, now, run_id)
                except Exception:
                    log.exception("refresh check of %s failed", connection_id)

    def _check(self, connection_id: str, now: datetime, run_id: str) -> int:
        c = _load(self.services, connection_id)
        if c is None or c.state != lc.ACTIVE or not c.refresh_token_encrypted:
            return 0
        try:
            self.services.credentials.tokens.check(c, SP_API, now, self.amazon)
        except AmazonError as e:
            return self._refused(c, now, run_id, e)
        except AccessRefused as e:  # a caller's refresh failed just now, and recorded it
            log.info("refresh check of %s: %s", connection_id, e.code)
            return 0
        self.checks.mark_available(connection_id)
        return 0

    def _refused(self, c: Connection, now: datetime, run_id: str, e: AmazonError) -> int:
        outage_began = None
        if e.code == UNAVAILABLE:  # this worker keeps track of outages: one warning each
            outage_began = self.checks.mark_unavailable(str(c.id), iso(now))
            if not outage_began:
                return 0  # already warned during this outage
        return self.services.credentials.outcomes.refused(
            c, SP_API, e, run_id, actor=ACTOR, at=now, outage_began=outage_began
        )


def _load(services: Any, connection_id: str) -> Connection | None:
    try:  # the worker acts for no tenant
        return services.app.load_without_tenant_check(connection_id)
    except NotFound:
        return None


def _context(c: Connection, now: datetime, run_id: str) -> Context:
    # Never before the connection's last event, so the history stays in time order.
    return Context(
        actor=ACTOR, at=max(now, c.modified_on), request_id=run_id, correlation_id=run_id
    )


def parse_rfc3339(text: str) -> datetime:
    """An instant with its offset, e.g. 2026-01-05T09:00:00Z (the edge's parser); ValueError
    saying what is expected otherwise (a date alone or a local time names no instant)."""
    try:
        return parse_instant(text.strip())
    except NotAnInstant as e:
        if e.reason == "bounds":
            raise ValueError(f"--now must be an instant {BOUNDS} (got {text!r})") from None
        expected = (
            f"--now expects an RFC 3339 timestamp with a time zone, such as "
            f"2026-01-05T09:00:00Z (got {text!r})"
        )
        raise ValueError(f"{expected}: {e.detail}" if e.detail else expected) from None


def run_deadlines_cli(now_text: str) -> int:
    """`connections deadlines run --now <RFC 3339>`: fires what is due by then, once."""
    from service.connections.presenters import rfc3339
    from service.container import build
    from service.settings import ConfigError, Settings

    try:
        now = parse_rfc3339(now_text)
        settings = Settings.from_env()
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    services = build(settings)
    try:
        deadlines = Deadlines(services)
        fired = deadlines.run_once(now)
    finally:
        services.close()
    failed = f", {deadlines.failed} connection(s) failed" if deadlines.failed else ""
    when = rfc3339(now.astimezone(UTC))
    print(f"deadlines: fired {fired} due by {when}{failed}", file=sys.stderr)
    return 1 if deadlines.failed else 0

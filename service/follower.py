"""One way to follow the event log, for every follower (the read model, the webhook
outbox, and whichever others arrive): read notifications after a tracking position,
derive what the follower keeps, and write it in the transaction that moves the position
(compare-and-set), so any number of processes may run it and each event is processed
exactly once.

An event the follower cannot process (it will not decode, or applying it raises) does not
stop the others and is not skipped in silence: the follower processes up to it, records
it as a `stuck` fault (`/readyz` then answers 503 naming the follower, the position and
the connection), counts it in `follower_poison_events`, logs it once, and tries again on
each pass, so a fix deployed meanwhile just resumes. After inspecting it, an operator may
park it (`connections followers skip NAME POSITION`): the follower then moves past it.

eventsourcing 9.5's `ProjectionRunner` follows an application in a thread of its own,
one event per transaction, and stops at the first error; this service's followers run
inside the worker's pass and the request path, write a batch per transaction, and must
stay visible when one event fails, so they share this helper instead.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Notification, PersistenceError

from adapters.tables.follower_faults import Fault, FollowerFaults
from adapters.tables.instants import iso
from service.metrics import FOLLOWER_POISON_EVENTS, FOLLOWER_STUCK_AT

log = logging.getLogger(__name__)


class Step(Protocol):
    """What a follower does with the log; `prepare` is where an event is decoded and
    applied (a poison event fails there), `commit` only writes."""

    name: str

    def position(self) -> int: ...

    def prepare(self, notifications: Sequence[Notification]) -> Any: ...

    def commit(self, expected: int, new: int, prepared: Any) -> int | None:
        """Moves the position from `expected` to `new` and writes `prepared` atomically;
        None (nothing written) when another process moved the position first."""


def transient(exc: BaseException) -> bool:
    """Failures of the store, not of the event: the pass fails and the next one retries."""
    if isinstance(exc, PersistenceError | sqlite3.Error | OSError):
        return True
    return type(exc).__module__.split(".")[0] == "psycopg"


class Follower:
    def __init__(
        self, step: Step, app: Any, faults: FollowerFaults, clock: Any, batch: int
    ) -> None:
        self.step = step
        self.name = step.name
        self.app = app
        self.faults = faults
        self.clock = clock
        self.batch = batch
        self._recorded: set[int] = set()  # stuck positions this process already reported

    def catch_up(
        self, until: int | None = None, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Processes what is recorded so far (or up to `until`); returns what `commit`
        counted. Stops short of an event it cannot process, leaving it recorded as stuck."""
        done = 0
        careful_until = 0  # after a failed batch: one notification at a time up to here
        while True:
            position = self.step.position()
            if until is not None and position >= until:
                return done
            limit = 1 if position < careful_until else self.batch
            notifications = self.app.recorder.select_notifications(start=position + 1, limit=limit)
            if not notifications:
                return done
            last = notifications[-1].id
            parked = self.faults.parked_between(self.name, notifications[0].id, last)
            todo = [n for n in notifications if n.id not in parked]
            try:
                prepared = self.step.prepare(todo)
            except Exception as exc:
                if transient(exc):
                    raise
                if self.step.position() != position:
                    continue  # another process moved on meanwhile: read again
                if len(todo) > 1:
                    careful_until = last  # find which one it is
                    continue
                self._stuck(todo[0], exc)
                return done
            made = self.step.commit(position, last, prepared)
            if made is None:
                continue  # another process took this batch
            done += made
            FOLLOWER_STUCK_AT.labels(self.name).set(0)
            if progress is not None:
                progress(last, self.app.recorder.max_notification_id() or 0)

    def stuck(self) -> Fault | None:
        """The event holding this follower up, if any (whichever process met it)."""
        return self.faults.stuck(self.name, self.step.position())

    def _stuck(self, notification: Notification, exc: Exception) -> None:
        FOLLOWER_STUCK_AT.labels(self.name).set(notification.id)
        if notification.id in self._recorded:
            return
        self._recorded.add(notification.id)
        FOLLOWER_POISON_EVENTS.labels(self.name).inc()
        connection = str(notification.originator_id)
        error = f"{type(exc).__name__}: {exc}"[:500]
        log.error(
            "follower %s is stuck at position %d (connection %s, %s): %s; it retries each "
            "pass; after inspection `connections followers skip %s %d` parks the event",
            self.name,
            notification.id,
            connection,
            notification.topic,
            error,
            self.name,
            notification.id,
            exc_info=exc,
        )
        self.faults.record_stuck(
            self.name,
            notification.id,
            connection,
            notification.topic,
            error,
            iso(self.clock.now()) or "",
        )

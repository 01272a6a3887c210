"""Waking the worker when there is new work, instead of making it poll for it.

A `Waker` is the worker's alarm clock: anything in this process that may have made work
(a committed command, a queued redelivery, a finished send freeing a slot) rings it. On
PostgreSQL a `PostgresListener` rings it for commits made by other processes too: the
event store sends `NOTIFY` on its channel in every transaction that records events (the
eventsourcing library does this itself), and the listener holds one connection in
`LISTEN`. Polling stays as the fallback: a lost connection or a missed notification only
delays work until the next interval.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)


class Waker:
    def __init__(self) -> None:
        self._event = threading.Event()

    def wake(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleeps until woken or `timeout` seconds pass; True when woken."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class PostgresListener:
    """One thread, one connection in `LISTEN channel`, calling `on_notify(payload)` for
    each notification (by default: ringing `waker`). It reconnects after a failure and
    calls `on_listen()` each time a LISTEN is in place, since anything sent while it was
    away went unheard."""

    def __init__(
        self,
        connect_kwargs: dict[str, Any],
        channel: str,
        waker: Waker | None = None,
        *,
        on_notify: Callable[[str], None] | None = None,
        on_listen: Callable[[], None] | None = None,
        lead: str | None = None,
        retry: float = 1.0,
    ) -> None:
        self.connect_kwargs = {
            # A server that vanished without closing the connection is noticed within a
            # minute (TCP keepalives), not after the operating system's hours.
            "connect_timeout": 5,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            # And one whose answers stop (the ping below is unacknowledged) within 5 s.
            "tcp_user_timeout": 5000,
            **{k: v for k, v in connect_kwargs.items() if k != "row_factory"},
            # What an operator sees in pg_stat_activity (and the tests look for).
            "application_name": f"listen {channel}"[:63],
        }
        self.channel = channel
        ring = (lambda *_: waker.wake()) if waker is not None else (lambda *_: None)
        self.on_notify = on_notify or ring
        self.on_listen = on_listen or ring
        self.retry = retry
        self.listening = threading.Event()  # set while a LISTEN is in place
        # With `lead`: set while this connection holds the session advisory lock named
        # by it, which one process at a time can (released when the connection ends).
        self.lead_key = _lock_key(lead) if lead is not None else None
        self.leading = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_recorder(
        cls, recorder: Any, waker: Waker, lead: str | None = None
    ) -> PostgresListener | None:
        """A listener on the event store's channel; None for stores without one (SQLite)."""
        channel = getattr(recorder, "channel_name", None)
        pool = pool_of(recorder)
        if channel is None or pool is None:
            return None
        return cls(dict(pool.kwargs), channel, waker, lead=lead and f"{channel}:{lead}")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pg-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except psycopg.Error as e:
                log.warning("LISTEN %s lost (%s); polling until it is back", self.channel, e)
            finally:
                self.listening.clear()
                self.leading.clear()
            self._stopping.wait(self.retry)

    def _listen(self) -> None:
        with psycopg.connect(**self.connect_kwargs, autocommit=True) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.listening.set()
            log.info("listening on %s", self.channel)
            self.on_listen()
            while not self._stopping.is_set():
                if self.lead_key is not None and not self.leading.is_set():
                    self._try_to_lead(conn)
                else:
                    conn.execute("SELECT 1")  # a silently dead connection fails here
                # A short timeout keeps stop() prompt (and a standby's next try close).
                for notify in conn.notifies(timeout=0.5, stop_after=1):
                    self.on_notify(notify.payload)

    def _try_to_lead(self, conn: psycopg.Connection) -> None:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.lead_key,)).fetchone()
        if row is not None and row[0]:
            self.leading.set()
            log.info("this process leads on %s", self.channel)


def _lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key (a signed 64-bit integer) for a name."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def pool_of(recorder: Any) -> Any:
    """The PostgreSQL connection pool behind a recorder; None on SQLite."""
    return getattr(getattr(recorder, "datastore", None), "pool", None)

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

    def wake(self, *_: Any) -> None:
        """Rings (any arguments, such as the ids a commit recorded, are ignored)."""
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleeps until woken or `timeout` seconds pass; True when woken."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class Subscription:
    """One channel's callbacks on a `PostgresListener`. `listening` is set while its
    LISTEN is in place (after `on_listen` ran for that connection), cleared when the
    connection is lost or the subscription cancelled."""

    def __init__(
        self,
        listener: PostgresListener,
        channel: str,
        on_notify: Callable[[str], None],
        on_listen: Callable[[], None],
    ) -> None:
        self.listener = listener
        self.channel = channel
        self.on_notify = on_notify
        self.on_listen = on_listen
        self.listening = threading.Event()

    def cancel(self) -> None:
        self.listener.unsubscribe(self)


class PostgresListener:
    """One thread and one connection per process, in `LISTEN` on every channel subscribed
    (the event store's, API keys', access tokens'), calling each subscription's
    `on_notify(payload)`. One reconnect and liveness policy for all of them: after a
    failure it reconnects every `retry` seconds and calls each `on_listen()` once its
    LISTEN is in place again, since anything sent while it was away went unheard; a
    `SELECT 1` every half second (and TCP keepalives, a user timeout) notice a silently
    dead connection.

    Built with a `channel` (and a `waker` or callbacks), it starts with that subscription.
    `listening` is set while it is connected and LISTENs on every channel subscribed by
    then; each subscription has its own `listening` too. `lead(name)` makes the
    connection also try for the session advisory lock named by it (one process at a time
    holds it; released with the connection, or by `resign()`): `leading` is set while
    held."""

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
        subscribe: bool = True,
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
        self.retry = retry
        self._guard = threading.Lock()
        self._subscriptions: list[Subscription] = []
        self._fresh: list[Subscription] = []  # subscribed, not yet LISTENed on this connection
        # Set while connected and LISTENing on every channel subscribed by then.
        self.listening = threading.Event()
        if subscribe:
            ring = (lambda *_: waker.wake()) if waker is not None else (lambda *_: None)
            self.subscribe(channel, on_notify or ring, on_listen or ring)
        # With `lead`: set while this connection holds the session advisory lock named
        # by it, which one process at a time can (released when the connection ends).
        self.lead_key = _lock_key(lead) if lead is not None else None
        self._resigning = False
        self.leading = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_recorder(
        cls, recorder: Any, waker: Waker | None = None, lead: str | None = None
    ) -> PostgresListener | None:
        """A listener named after the event store's channel (None for stores without one:
        SQLite); with `waker`, subscribed to that channel and ringing it."""
        channel = getattr(recorder, "channel_name", None)
        pool = pool_of(recorder)
        if channel is None or pool is None:
            return None
        return cls(
            dict(pool.kwargs),
            channel,
            waker,
            lead=lead and f"{channel}:{lead}",
            subscribe=waker is not None,
        )

    def subscribe(
        self,
        channel: str,
        on_notify: Callable[[str], None],
        on_listen: Callable[[], None] = lambda: None,
    ) -> Subscription:
        """Hears `channel` on this listener's connection from now on (once LISTENed:
        at once when it is connected, else when it connects)."""
        subscription = Subscription(self, channel, on_notify, on_listen)
        with self._guard:
            self._subscriptions = [*self._subscriptions, subscription]
            self._fresh.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._guard:
            self._subscriptions = [s for s in self._subscriptions if s is not subscription]
            self._fresh = [s for s in self._fresh if s is not subscription]
        subscription.listening.clear()

    def lead(self, name: str) -> None:
        """Tries for the advisory lock named `channel:name` from now on."""
        self.lead_key = _lock_key(f"{self.channel}:{name}")
        self._resigning = False

    def resign(self) -> None:
        """Gives the lock up (at the next turn of the listener's loop) and stops trying."""
        self._resigning = True

    def start(self) -> None:
        """Starts the thread; again while it runs, nothing."""
        with self._guard:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
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
                for subscription in self._subscriptions:
                    subscription.listening.clear()
                self.leading.clear()
            self._stopping.wait(self.retry)

    def _listen(self) -> None:
        with psycopg.connect(**self.connect_kwargs, autocommit=True) as conn:
            with self._guard:
                self._fresh = list(self._subscriptions)  # a new connection hears none yet
            while not self._stopping.is_set():
                self._listen_to_fresh(conn)
                if not self.listening.is_set():
                    self.listening.set()
                    channels = sorted({s.channel for s in self._subscriptions})
                    log.info("listening on %s", ", ".join(channels) or self.channel)
                if self._resigning and self.leading.is_set():
                    conn.execute("SELECT pg_advisory_unlock(%s)", (self.lead_key,))
                    self.leading.clear()
                    self.lead_key = None
                if self.lead_key is not None and not self._resigning and not self.leading.is_set():
                    self._try_to_lead(conn)
                else:
                    conn.execute("SELECT 1")  # a silently dead connection fails here
                # A short timeout keeps stop() prompt (and a standby's next try close).
                # Whatever arrives within it is heard in this one wait: a busy store
                # sends a notification per commit, and a `SELECT 1` after each one was a
                # round trip per commit in every process.
                for notify in conn.notifies(timeout=0.5):
                    for subscription in self._subscriptions:
                        if subscription.channel == notify.channel:
                            subscription.on_notify(notify.payload)

    def _listen_to_fresh(self, conn: psycopg.Connection) -> None:
        with self._guard:
            fresh, self._fresh = self._fresh, []
        done: set[str] = set()
        for subscription in fresh:
            if subscription.channel not in done:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(subscription.channel)))
                done.add(subscription.channel)
            # In place before its owner forgets what it kept: whatever is announced from
            # now on is heard, so what it keeps after this call is checked after it.
            subscription.on_listen()
            subscription.listening.set()

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

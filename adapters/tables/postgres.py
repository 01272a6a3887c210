"""PostgreSQL dialect of this service's tables (same schema as the event store)."""

import re
import select
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool

from adapters.tables.base import Tables
from adapters.tables.dialect import rows_of
from adapters.tables.instants import iso


class IsoTimestamptzLoader(TimestamptzLoader):
    """`timestamptz` read back as the ISO-8601 UTC text the service writes (see `iso`).
    A session in UTC sends text that needs only rearranging (no datetime in between);
    anything else is parsed."""

    def load(self, data: Any) -> str | None:  # type: ignore[override]
        utc = _UTC_TEXT.match(bytes(data))
        if utc is not None:
            day, time, fraction = utc.groups()
            return f"{day.decode()}T{time.decode()}.{(fraction or b'').decode():0<6}+00:00"
        return iso(super().load(data))


# PostgreSQL's text of a timestamptz when the session's TimeZone is UTC (it drops a zero
# fraction and trailing zeros: "2026-12-02 00:25:41.9718+00").
_UTC_TEXT = re.compile(rb"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$")


def _reading_text(conn: psycopg.Connection) -> psycopg.Connection:
    """The service's columns are `timestamptz` and `jsonb` since migration 0002, while its
    code deals in the text it writes (ISO instants, JSON documents) on both stores: each
    pooled connection learns, once, to read those types back as that text."""
    if conn.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT) is not IsoTimestamptzLoader:
        conn.adapters.register_loader("timestamptz", IsoTimestamptzLoader)
        conn.adapters.register_loader("jsonb", TextLoader)
    return conn


_TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid


class PostgresTables(Tables):
    placeholder = "%s"
    # Claimed rows stay locked until the claim commits; other workers skip them.
    skip_locked = " FOR UPDATE OF {alias} SKIP LOCKED"

    def __init__(self, datastore: Any) -> None:
        super().__init__(datastore)
        self.prefix = f'"{datastore.schema}".'
        # The pool checks each connection it hands out (POSTGRES_PRE_PING): replace its
        # round trip with a look at the socket, which is what a dropped connection shows.
        # (`_check` is psycopg_pool's; were it renamed, the library's pre-ping would stay:
        # slower, still correct, and test_stores' dropped-connection test would show it.)
        datastore.pool._check = idle_check(datastore.pool)

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
        """One array parameter, so the statement's text is the same however many values
        (psycopg parses a text once: a list of 500 placeholders was a tenth of a
        follower's time)."""
        return f"{column} = ANY(?)", (list(values),)

    # One statement needs no BEGIN … COMMIT around it: the pool's connections are in
    # autocommit, so these take one round trip instead of three.
    def execute(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.datastore.get_connection() as conn:
            c = _reading_text(conn).cursor()
            c.execute(self.sql(text), tuple(params))
            return rows_of(c)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(force_rollback=not commit),
        ):
            yield _reading_text(conn).cursor()

    def query(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.execute(text, params)

    def append(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """COPY instead of INSERT: a row costs this process about a quarter of the CPU of
        an `executemany` (about 4 against 16 us at a batch of 200; the access log writes one
        per access token handed out, bench.credentials)."""
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.datastore.schema, table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
        )
        with self.transaction(commit=True) as c, c.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def wake_on(self, channel: str) -> None:
        self.wake_statement = sql.SQL("NOTIFY {}").format(sql.Identifier(channel)).as_string()

    @property
    def api_key_channel(self) -> str:
        """Where revocations are announced: one channel per schema (a channel name is an
        identifier, at most 63 bytes)."""
        return f"{self.datastore.schema}_api_key_revoked"[:63]

    @property
    def access_token_channel(self) -> str:
        """Where changes of cached access tokens are announced (adapters.tables.access_tokens)."""
        return f"{self.datastore.schema}_access_token_changed"[:63]

    def notify(self, cursor: Any, channel: str, payload: str) -> None:
        cursor.execute("SELECT pg_notify(%s, %s)", (channel, payload))


TABLES_CLASS = PostgresTables


def idle_check(pool: ConnectionPool) -> Callable[[Any], None]:
    """psycopg_pool's `check` for a connection leaving the pool, without a round trip.
    An idle connection has nothing to read: when its socket is readable the server closed
    it, ended it or sent a notice, and only then is it asked ("" query, one round trip).
    A dead one is discarded (the pool hands out another after a pause), and the rest of
    the pool is checked at once in the background, since the server that dropped one
    connection (a restart, a failover) has usually dropped them all."""
    purging = threading.Lock()

    def purge() -> None:
        try:
            pool.check()
        finally:
            purging.release()

    def check(conn: Any) -> None:
        if not conn.closed and not conn.broken and (_quiet(conn) or _answers(conn)):
            return
        if purging.acquire(blocking=False):
            threading.Thread(target=purge, name="pool-check", daemon=True).start()
        raise psycopg.OperationalError("the pooled connection was closed by the server")

    return check


def _quiet(conn: Any) -> bool:
    """Nothing to read on the socket (select() would fail past descriptor 1024)."""
    poll = select.poll()
    poll.register(conn.fileno(), select.POLLIN)
    return not poll.poll(0)


def _answers(conn: Any) -> bool:
    try:
        ConnectionPool.check_connection(conn)  # "" query: one round trip
    except psycopg.Error:
        return False
    return True

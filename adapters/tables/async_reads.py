"""Reads on the event loop (PostgreSQL): psycopg's asynchronous pool, no thread per read.

The API's hottest reads (a list page of the read model, the log's head that says whether
that page is fresh) are one statement each. Sent from the event loop through an
`AsyncConnectionPool`, they cost a request no trip through a worker thread and back (the
thread hop, its GIL hand-offs and the pool's locks were most of a list's overhead over a
hand-written service: bench/README.md). The same SQL as the synchronous tables (`{p}` and
`?` as everywhere, via the dialect's `sql`), the same text for instants and JSON.

A pool belongs to one event loop: each server process has one loop and so one pool,
opened on its first read and closed when the application shuts down (`close`). A read
from another loop (a test client's) gets that loop's own pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.string import TextLoader
from psycopg_pool import AsyncConnectionPool

from adapters.tables.postgres import IsoTimestamptzLoader


class AsyncReads:
    def __init__(self, tables: Any, recorder: Any, snapshots: Any = None, *, size: int = 4) -> None:
        self.tables = tables
        pool = tables.datastore.pool
        self.kwargs = {k: v for k, v in pool.kwargs.items() if k != "row_factory"}
        self.size = size
        self.timeout = pool.timeout  # as long as the blocking pool waits for a connection
        schema = tables.datastore.schema
        events = f'"{schema}"."{recorder.events_table_name}"'
        self.head_statement = f"SELECT MAX(notification_id) AS head FROM {events}"
        # Whether an aggregate has an event after a version (the primary key's index).
        self.events_after = (
            f"SELECT 1 FROM {events} WHERE originator_id = ? AND originator_version > ? LIMIT 1"
        )
        # An aggregate's stored events after a version, in order (the same index), and
        # its latest snapshot when the application takes them (`snapshots`: that recorder).
        stored = "SELECT originator_id, originator_version, topic, state FROM"
        self.events_from = (
            f"{stored} {events} WHERE originator_id = ? AND originator_version > ? "
            "ORDER BY originator_version"
        )
        self.latest_snapshot = None
        if snapshots is not None:
            table = f'"{schema}"."{snapshots.events_table_name}"'
            self.latest_snapshot = (
                f"{stored} {table} WHERE originator_id = ? ORDER BY originator_version DESC LIMIT 1"
            )
        self._pools: dict[asyncio.AbstractEventLoop, AsyncConnectionPool] = {}

    async def _pool(self) -> AsyncConnectionPool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = AsyncConnectionPool(
                kwargs={**self.kwargs, "autocommit": True, "row_factory": dict_row},
                min_size=1,
                max_size=self.size,
                open=False,
                configure=_configure,
                name="async-reads",
                timeout=self.timeout,
            )
            self._pools[loop] = pool
            await pool.open(wait=True, timeout=self.timeout)
        return pool

    async def query(self, text: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        async with (await self._pool()).connection() as conn:
            cursor = await conn.execute(self.tables.sql(text), tuple(params), prepare=True)
            return await cursor.fetchall()

    async def head(self) -> int:
        """The log's last notification id (0 when empty)."""
        rows = await self.query(self.head_statement)
        return rows[0]["head"] or 0

    async def close(self) -> None:
        """Closes this loop's pool (the application's shutdown)."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()


async def _configure(conn: AsyncConnection) -> None:
    conn.adapters.register_loader("timestamptz", IsoTimestamptzLoader)
    conn.adapters.register_loader("jsonb", TextLoader)

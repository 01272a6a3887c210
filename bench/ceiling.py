"""The raw commit ceiling: one small row inserted and committed per transaction.

It runs in the load process with the same number of threads as the HTTP clients, each
with its own database connection, against the same database server (PostgreSQL) or the
same filesystem (SQLite) and with the service's durability: PostgreSQL's own settings
(reported), SQLite in WAL with the `synchronous` level the service's connections have.
SQLite writers take one in-process lock, as the event store's connection pool does, so
they queue on a mutex instead of sleeping in SQLite's busy handler.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg

from bench.machine import Meter

PAYLOAD = "x" * 64


def worker_factory(job: dict[str, Any]) -> Callable[[int], Callable[..., None]]:
    if job["store"] == "postgres":
        with psycopg.connect(job["dsn"], autocommit=True) as conn:
            conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{job["schema"]}".ceiling '
                "(id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)"
            )
        table = f'"{job["schema"]}".ceiling'
        insert = f"INSERT INTO {table} (payload) VALUES (%s)"
        lock = f"LOCK TABLE {table} IN EXCLUSIVE MODE"

        def postgres(i: int) -> Callable[..., None]:
            conn = psycopg.connect(job["dsn"])

            def commit_one() -> None:
                if job.get("lock"):  # as the event store does, to keep notification ids gapless
                    conn.execute(lock)
                conn.execute(insert, (PAYLOAD,))
                conn.commit()

            return _loop(commit_one, conn.close)

        return postgres

    setup = _sqlite(job)
    setup.execute(
        "CREATE TABLE IF NOT EXISTS ceiling (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)"
    )
    setup.close()
    writer = threading.Lock()

    def sqlite(i: int) -> Callable[..., None]:
        conn = _sqlite(job)

        def commit_one() -> None:
            with writer:
                conn.execute("INSERT INTO ceiling (payload) VALUES (?)", (PAYLOAD,))

        return _loop(commit_one, conn.close)

    return sqlite


def _sqlite(job: dict[str, Any]) -> sqlite3.Connection:
    conn = sqlite3.connect(job["path"], isolation_level=None, timeout=10, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={int(job['synchronous'])}")
    return conn


def _loop(commit_one: Callable[[], None], close: Callable[[], None]) -> Callable[..., None]:
    def run(
        deadline: float, take: Callable[[], bool], latencies: list[float], errors: Counter
    ) -> None:
        clock = time.perf_counter
        try:
            while clock() < deadline and take():
                began = clock()
                commit_one()
                latencies.append(clock() - began)
        finally:
            close()

    return run


def measure(
    load: Any,
    kind: str,
    dsn: str,
    target: str,
    synchronous: Any,
    clients: tuple[int, ...],
    seconds: float,
) -> dict[str, dict[int, Any]]:
    """The ceiling at each concurrency; on PostgreSQL also with the event store's table
    lock, which serialises commits (no group commit): the bound for its inserts."""
    variants = {"commit": False, "commit_locked": True} if kind == "postgres" else {"commit": False}
    out: dict[str, dict[int, Any]] = {}
    for name, lock in variants.items():
        for n in clients:
            meter = Meter([load.pid])
            result = load.run(
                {
                    "kind": "ceiling",
                    "store": kind,
                    "dsn": dsn,
                    "schema": target,
                    "path": target,
                    "synchronous": synchronous,
                    "lock": lock,
                    "clients": n,
                    "seconds": seconds,
                }
            )
            result["background_cores"] = meter.background_cores()
            out.setdefault(name, {})[n] = result
    return out


def durability(store: str, url: str) -> dict[str, Any]:
    """The settings that make a commit durable, as the service's own connections see them."""
    from adapters.eventstore import eventsourcing_env
    from service.connections.application import ConnectionsApp

    app = ConnectionsApp(env=eventsourcing_env(url, pool_size=1))
    statements = (
        {"journal_mode": "PRAGMA journal_mode", "synchronous": "PRAGMA synchronous"}
        if store == "sqlite"
        else {
            name: f"SHOW {name}"
            for name in ("synchronous_commit", "fsync", "wal_sync_method", "commit_delay")
        }
    )
    shown: dict[str, Any] = {}
    try:
        with app.recorder.datastore.transaction(commit=False) as cursor:
            for name, statement in statements.items():
                cursor.execute(statement)
                row = cursor.fetchone()  # a dict on PostgreSQL, an sqlite3.Row on SQLite
                shown[name] = next(iter(row.values())) if isinstance(row, dict) else row[0]
    finally:
        app.close()
    return shown

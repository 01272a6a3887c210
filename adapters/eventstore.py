"""Maps `DATABASE_URL` to the eventsourcing library's persistence settings.

Storage is chosen here, by configuration only: the rest of the code never asks which
database it runs on. `TABLES_MODULE` names the module holding this service's own tables
(read models, API keys, idempotency records) for the same database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import psycopg


class DatabaseUrlError(ValueError):
    pass


# Loaded aggregates stay in memory and are fast-forwarded with the events recorded since
# (one query instead of snapshot + events); copies are handed out, so a refused or lost
# command never corrupts the cache. Every process stays correct: it always fast-forwards.
_CACHE = {
    "AGGREGATE_CACHE_MAXSIZE": "10000",
    "AGGREGATE_CACHE_FASTFORWARD": "y",
    "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
}


def private_file(path: Path) -> None:
    """The SQLite file (and so its -wal and -shm files, which SQLite creates with the
    database's mode) readable by its owner only: it holds every tenant's history."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    try:
        os.chmod(path, 0o600)
    except PermissionError:  # someone else's file: theirs to secure
        pass


def eventsourcing_env(database_url: str, *, pool_size: int = 10) -> dict[str, str]:
    url = urlparse(database_url)
    if url.scheme == "sqlite":
        # sqlite:///relative/path, sqlite:////absolute/path, sqlite:///:memory:
        path = (
            unquote(database_url[len("sqlite:///") :])
            if database_url.startswith("sqlite:///")
            else ""
        )
        if not path:
            raise DatabaseUrlError("expected sqlite:///path/to/file.db")
        if path == ":memory:":
            path = "file::memory:?mode=memory&cache=shared"
        else:
            if "?" in path or "#" in path:
                raise DatabaseUrlError("expected sqlite:///path/to/file.db, without ?options")
            # A relative path is relative to the directory the process starts in, made
            # absolute once here, so `connections config` shows where the file is.
            path = str(Path(path).resolve())
            private_file(Path(path))
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "10",
            "TABLES_MODULE": "adapters.tables.sqlite",
            **_CACHE,
        }
    if url.scheme in ("postgresql", "postgres"):
        dbname = url.path.lstrip("/")
        if not dbname:
            raise DatabaseUrlError("expected postgresql://user[:password]@host[:port]/dbname")
        query = parse_qs(url.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(pool_size),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_LOCK_TIMEOUT": "5",
            "POSTGRES_PRE_PING": "y",
            "TABLES_MODULE": "adapters.tables.postgres",
            # Not POSTGRES_ENABLE_DB_FUNCTIONS: that insert path skips the table lock that
            # keeps notification ids in commit order, and readers tailing the log then
            # pass over events for good (seen under load in `make bench`). This one keeps
            # the lock and writes each batch in one statement (adapters.pg_recorder).
            "APPLICATION_RECORDER_TOPIC": "adapters.pg_recorder:LockedInsertRecorder",
            **_CACHE,
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    raise DatabaseUrlError(
        f"unsupported scheme {url.scheme!r}: use sqlite:///path or postgresql://…"
    )


@contextmanager
def schema_lock(env: Mapping[str, str]) -> Iterator[None]:
    """Held while a process creates its tables. On PostgreSQL a session advisory lock
    (on a connection of its own) makes processes starting together on a new database
    take turns: `CREATE TABLE IF NOT EXISTS` is not safe against itself. SQLite creates
    tables under its own write lock."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        yield
        return
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
        autocommit=True,
    ) as conn:
        conn.execute("SELECT pg_advisory_lock(4242000)")
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(4242000)")

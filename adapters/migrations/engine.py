"""A SQLAlchemy engine on the database the event store uses, for Alembic alone.

The service itself talks to its tables through the event store's own connections
(`adapters.tables`); only migrations go through SQLAlchemy, because Alembic needs it.
Both stores get one transaction for the whole upgrade, taken under a lock, so processes
starting together take turns and a failed migration leaves the database as it was:
PostgreSQL's DDL is transactional and an advisory lock serialises the upgraders; SQLite's
DDL is transactional too once pysqlite stops managing transactions, and `BEGIN IMMEDIATE`
takes the database's write lock up front.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from psycopg import sql
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

# Held for the upgrade's transaction (the event store's own table creation uses 4242000).
PG_MIGRATION_LOCK = 4242002


def schema_of(env: Mapping[str, str]) -> str | None:
    """The PostgreSQL schema holding the service's tables (None on SQLite)."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        return None
    return env.get("POSTGRES_SCHEMA", "").strip() or "public"


def engine_for(env: Mapping[str, str]) -> Engine:
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        return _postgres(env)
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite":
        return _sqlite(env["SQLITE_DBNAME"])
    raise ValueError(f"no migrations for {env.get('PERSISTENCE_MODULE')!r}")


def _postgres(env: Mapping[str, str]) -> Engine:
    url = URL.create(
        "postgresql+psycopg",
        username=env["POSTGRES_USER"],
        password=env.get("POSTGRES_PASSWORD") or None,
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        database=env["POSTGRES_DBNAME"],
    )
    engine = create_engine(
        url,
        poolclass=NullPool,
        connect_args={"connect_timeout": int(env.get("POSTGRES_CONNECT_TIMEOUT", "5"))},
    )
    search_path = sql.SQL("SET search_path TO {}").format(sql.Identifier(schema_of(env) or ""))

    @event.listens_for(engine, "connect")
    def _in_schema(dbapi_connection: Any, _record: Any) -> None:
        # Migrations name tables without a schema: they land in the service's schema.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(search_path)
        dbapi_connection.commit()

    return engine


def _sqlite(dbname: str) -> Engine:
    def connect() -> sqlite3.Connection:
        # isolation_level=None: pysqlite leaves transactions to us (see below).
        return sqlite3.connect(
            dbname, uri=dbname.startswith("file:"), timeout=30, isolation_level=None
        )

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)

    @event.listens_for(engine, "begin")
    def _write_lock(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine

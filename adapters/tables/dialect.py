"""How one SQL text runs on SQLite and PostgreSQL.

The schema is the migrations' (`adapters/migrations`, README "Adding a migration"). The
dialect modules (`sqlite`, `postgres`) only say how to open a transaction, how to write a
placeholder, which schema to use and how to tell other processes; every table family
writes its SQL once, with `?` placeholders and `{p}` before each table name. Timestamps
travel as ISO-8601 UTC text (`instants`); PostgreSQL stores `timestamptz` (and `jsonb` for
JSON documents) and reads them back as the same text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


class Dialect:
    """Base of the dialect classes; subclasses set `placeholder`, `prefix`, `transaction`."""

    placeholder = "?"
    prefix = ""
    skip_locked = ""  # SQLite has a single writer: a plain UPDATE … RETURNING claims
    # Run in a transaction that queued work, to wake workers in other processes
    # (PostgreSQL: NOTIFY on the event store's channel, see adapters.wakeup).
    wake_statement: str | None = None
    # Where revocations of API keys are announced to other processes (PostgreSQL's
    # NOTIFY); None where there is no such channel.
    api_key_channel: str | None = None

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def wake_on(self, channel: str) -> None:
        """Sets `wake_statement` for the database's notification `channel`, if it has them."""

    def notify(self, cursor: Any, channel: str, payload: str) -> None:
        """Inside the caller's transaction: tells the processes listening on `channel`,
        once it commits. Nothing where the database has no notifications."""

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
        """`column` among `values`: the condition and its parameters."""
        return f"{column} IN ({', '.join('?' for _ in values)})", tuple(values)

    def sql(self, text: str) -> str:
        text = text.replace("{p}", self.prefix)
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    def execute(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.transaction(commit=True) as c:
            c.execute(self.sql(text), tuple(params))
            return rows_of(c)

    def query(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.transaction(commit=False) as c:
            c.execute(self.sql(text), tuple(params))
            return rows_of(c)

    def append(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Appends `rows` (values in `columns` order) to `table`, in one transaction."""
        marks = ", ".join("?" for _ in columns)
        with self.transaction(commit=True) as c:
            c.executemany(
                self.sql(f"INSERT INTO {{p}}{table} ({', '.join(columns)}) VALUES ({marks})"),
                rows,
            )


def rows_of(cursor: Any) -> list[Any]:
    # psycopg has no result set for plain statements; SQLite just returns no rows.
    if getattr(cursor, "description", True) is None:
        return []
    return list(cursor.fetchall())

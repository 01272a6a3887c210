"""Data keys (migration 0012), wrapped; `wrapped_key` NULL once destroyed by an erasure.

A key is made ahead of use, in batches (`add_many`), and taken by one connection: the
sealed values name their key (the envelope's `k`, adapters.personal_mapper), so a
connection's first event says which key is its own and nothing else needs writing when a
connection is created. A key taken for a connection recorded before erasure existed (its
first event seals nothing) is claimed here instead (`connection_id`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adapters.tables.dialect import Dialect

_COLUMNS = "key_id, connection_id, wrapped_key, erased_at"


@dataclass(frozen=True)
class DataKeyRow:
    key_id: str
    connection_id: str | None
    wrapped_key: str | None
    erased_at: str | None


class DataKeyRows:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def get(self, key_id: str) -> DataKeyRow | None:
        rows = self.t.query(
            f"SELECT {_COLUMNS} FROM {{p}}connection_data_keys WHERE key_id = ?", (key_id,)
        )
        return DataKeyRow(**dict(rows[0])) if rows else None

    def made_with(self, key_id: str, batch: str) -> list[DataKeyRow]:
        """The key's row and those of the keys made in its batch (ids starting `batch`:
        adapters.data_keys), in one range of the primary key. A key made before batches
        had a prefix shares it with no other."""
        rows = self.t.query(
            f"SELECT {_COLUMNS} FROM {{p}}connection_data_keys "
            "WHERE key_id >= ? AND key_id < ? LIMIT 1024",
            (batch, batch + "g"),  # after every id of 24 hex digits that starts `batch`
        )
        found = [DataKeyRow(**dict(r)) for r in rows if r["key_id"].startswith(batch)]
        if not any(r.key_id == key_id for r in found):
            found += [r for r in [self.get(key_id)] if r is not None]
        return found

    def add_many(self, keys: Sequence[tuple[str, str]], at: str) -> None:
        """(key_id, wrapped key) pairs, made ahead of use, in one transaction."""
        # PostgreSQL: COPY (Dialect.append). A statement with a row of values per key was
        # too long a text for psycopg to keep parsed: 1.4 % of a create's server time.
        self.t.append(
            "connection_data_keys",
            ("key_id", "wrapped_key", "created_at"),
            [(key_id, wrapped, at) for key_id, wrapped in keys],
        )

    def claimed_by(self, connection_id: str) -> list[DataKeyRow]:
        rows = self.t.query(
            f"SELECT {_COLUMNS} FROM {{p}}connection_data_keys WHERE connection_id = ? "
            "ORDER BY created_at, key_id",
            (connection_id,),
        )
        return [DataKeyRow(**dict(r)) for r in rows]

    def claim(self, key_id: str, connection_id: str) -> None:
        self.t.execute(
            "UPDATE {p}connection_data_keys SET connection_id = ? WHERE key_id = ?",
            (connection_id, key_id),
        )

    def destroy(self, key_ids: Sequence[str], connection_id: str, at: str) -> None:
        """The keys named and every key the connection claimed, for good."""
        with self.t.transaction(commit=True) as c:
            c.execute(
                self.t.sql(
                    "UPDATE {p}connection_data_keys SET wrapped_key = NULL, erased_at = ? "
                    "WHERE connection_id = ?"
                ),
                (at, connection_id),
            )
            c.executemany(
                self.t.sql(
                    "UPDATE {p}connection_data_keys SET wrapped_key = NULL, erased_at = ?, "
                    "connection_id = ? WHERE key_id = ?"
                ),
                [(at, connection_id, key_id) for key_id in key_ids],
            )

    def wrapped(self, after: str = "", limit: int = 500) -> list[DataKeyRow]:
        rows = self.t.query(
            f"SELECT {_COLUMNS} FROM {{p}}connection_data_keys "
            "WHERE key_id > ? AND wrapped_key IS NOT NULL ORDER BY key_id LIMIT ?",
            (after, limit),
        )
        return [DataKeyRow(**dict(r)) for r in rows]

    def rewrap(self, key_id: str, old: str, new: str) -> bool:
        rows = self.t.execute(
            "UPDATE {p}connection_data_keys SET wrapped_key = ? "
            "WHERE key_id = ? AND wrapped_key = ? RETURNING key_id",
            (new, key_id, old),
        )
        return bool(rows)

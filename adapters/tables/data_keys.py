"""Each connection's data key, wrapped (migration 0011); NULL once erased."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.tables.dialect import Dialect


@dataclass(frozen=True)
class DataKeyRow:
    connection_id: str
    wrapped_key: str | None
    erased_at: str | None


class DataKeyRows:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def get(self, connection_id: str) -> DataKeyRow | None:
        rows = self.t.query(
            "SELECT connection_id, wrapped_key, erased_at FROM {p}connection_data_keys "
            "WHERE connection_id = ?",
            (connection_id,),
        )
        return DataKeyRow(**dict(rows[0])) if rows else None

    def add(self, connection_id: str, wrapped_key: str, at: str) -> None:
        """The first key stored for the connection wins (two processes may race)."""
        self.t.execute(
            "INSERT INTO {p}connection_data_keys (connection_id, wrapped_key, created_at) "
            "VALUES (?, ?, ?) ON CONFLICT (connection_id) DO NOTHING",
            (connection_id, wrapped_key, at),
        )

    def destroy(self, connection_id: str, at: str) -> None:
        self.t.execute(
            "INSERT INTO {p}connection_data_keys (connection_id, wrapped_key, created_at, "
            "erased_at) VALUES (?, NULL, ?, ?) ON CONFLICT (connection_id) DO UPDATE "
            "SET wrapped_key = NULL, erased_at = excluded.erased_at",
            (connection_id, at, at),
        )

    def wrapped(self, after: str = "", limit: int = 500) -> list[DataKeyRow]:
        rows = self.t.query(
            "SELECT connection_id, wrapped_key, erased_at FROM {p}connection_data_keys "
            "WHERE connection_id > ? AND wrapped_key IS NOT NULL ORDER BY connection_id LIMIT ?",
            (after, limit),
        )
        return [DataKeyRow(**dict(r)) for r in rows]

    def rewrap(self, connection_id: str, old: str, new: str) -> bool:
        rows = self.t.execute(
            "UPDATE {p}connection_data_keys SET wrapped_key = ? "
            "WHERE connection_id = ? AND wrapped_key = ? RETURNING connection_id",
            (new, connection_id, old),
        )
        return bool(rows)

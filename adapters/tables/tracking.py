"""Tracking positions: every follower of the log keeps its position in a (name, position)
table and moves it with this compare-and-set, in the transaction that writes what it
derived, so what it derived is written exactly once."""

from __future__ import annotations

from typing import Any

from adapters.tables.dialect import Dialect, rows_of


def advance(t: Dialect, cursor: Any, table: str, name: str, expected: int, new: int) -> bool:
    """Inside the caller's transaction: moves `name`'s position in `table` (name,
    position) from `expected` to `new`. False when another process moved it first."""
    if expected == 0:
        cursor.execute(
            t.sql(
                f"INSERT INTO {{p}}{table} (name, position) VALUES (?, 0) ON CONFLICT DO NOTHING"
            ),
            (name,),
        )
    cursor.execute(
        t.sql(
            f"UPDATE {{p}}{table} SET position = ? WHERE name = ? AND position = ? RETURNING name"
        ),
        (new, name, expected),
    )
    return bool(rows_of(cursor))


def position(t: Dialect, table: str, name: str) -> int:
    rows = t.query(f"SELECT position FROM {{p}}{table} WHERE name = ?", (name,))
    return int(rows[0]["position"]) if rows else 0

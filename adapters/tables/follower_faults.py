"""The events a follower of the log (read model, webhook outbox, …) could not process.

A fault is `stuck` while the follower cannot get past it; an operator who inspected it
may `park` it, and the follower then moves past it without processing it. Parked rows
stay as the record of what was skipped. The same SQL serves SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.tables.dialect import Dialect


@dataclass(frozen=True)
class Fault:
    follower: str
    position: int
    connection_id: str | None
    topic: str
    error: str
    status: str  # "stuck" or "parked"
    recorded_at: str
    parked_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class FollowerFaults:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def record_stuck(
        self,
        follower: str,
        position: int,
        connection_id: str | None,
        topic: str,
        error: str,
        at: str,
    ) -> None:
        self.t.execute(
            "INSERT INTO {p}follower_faults (follower, position, connection_id, topic, error, "
            "status, recorded_at) VALUES (?, ?, ?, ?, ?, 'stuck', ?) "
            "ON CONFLICT (follower, position) DO UPDATE SET error = excluded.error "
            "WHERE follower_faults.status = 'stuck'",
            (follower, position, connection_id, topic, error, at),
        )

    def stuck(self, follower: str, after: int) -> Fault | None:
        """The fault holding `follower` up: the first stuck one past its position (older
        stuck rows were got past, by a fix or another process)."""
        rows = self.t.query(
            "SELECT * FROM {p}follower_faults WHERE follower = ? AND status = 'stuck' "
            "AND position > ? ORDER BY position LIMIT 1",
            (follower, after),
        )
        return _fault(rows[0]) if rows else None

    def parked_between(self, follower: str, first: int, last: int) -> set[int]:
        rows = self.t.query(
            "SELECT position FROM {p}follower_faults WHERE follower = ? AND status = 'parked' "
            "AND position BETWEEN ? AND ?",
            (follower, first, last),
        )
        return {int(r["position"]) for r in rows}

    def park(self, follower: str, position: int, at: str) -> Fault | None:
        """Parks the stuck fault at exactly `position`; None when there is none."""
        rows = self.t.execute(
            "UPDATE {p}follower_faults SET status = 'parked', parked_at = ? "
            "WHERE follower = ? AND position = ? AND status = 'stuck' RETURNING *",
            (at, follower, position),
        )
        return _fault(rows[0]) if rows else None

    def all(self, followers: Sequence[str] | None = None) -> list[Fault]:
        rows = self.t.query("SELECT * FROM {p}follower_faults ORDER BY follower, position")
        faults = [_fault(r) for r in rows]
        return [f for f in faults if followers is None or f.follower in followers]


def _fault(row: Any) -> Fault:
    return Fault(
        follower=row["follower"],
        position=int(row["position"]),
        connection_id=row["connection_id"],
        topic=row["topic"],
        error=row["error"],
        status=row["status"],
        recorded_at=row["recorded_at"],
        parked_at=row["parked_at"],
    )

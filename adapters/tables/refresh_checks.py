"""When each active connection's refresh token was last checked with Amazon.

Operational bookkeeping, not history: a check that changes nothing records no event, so the
time of the last one lives here. The same SQL serves SQLite and PostgreSQL (see `dialect`).
Claims are compare-and-set, so several workers never check one connection at once and never
warn twice about one outage.
"""

from __future__ import annotations

from adapters.tables.dialect import Dialect


class RefreshChecksTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def stale(self, checked_before: str, limit: int) -> list[str]:
        """Active connections not checked since `checked_before`, never-checked first."""
        rows = self.t.query(
            "SELECT v.id FROM {p}connections_view v "
            "LEFT JOIN {p}refresh_checks r ON r.connection_id = v.id "
            "WHERE v.state = 'active' AND (r.checked_at IS NULL OR r.checked_at <= ?) "
            "ORDER BY r.checked_at NULLS FIRST, v.id LIMIT ?",
            (checked_before, limit),
        )
        return [r["id"] for r in rows]

    def claim(self, connection_id: str, at: str, checked_before: str) -> bool:
        """Marks the connection checked at `at`; False when another worker got there first."""
        rows = self.t.execute(
            "INSERT INTO {p}refresh_checks (connection_id, checked_at) VALUES (?, ?) "
            "ON CONFLICT (connection_id) DO UPDATE SET checked_at = excluded.checked_at "
            "WHERE refresh_checks.checked_at <= ? RETURNING connection_id",
            (connection_id, at, checked_before),
        )
        return bool(rows)

    def mark_unavailable(self, connection_id: str, at: str) -> bool:
        """True only for the first failure since Amazon last answered for this connection."""
        rows = self.t.execute(
            "UPDATE {p}refresh_checks SET unavailable_since = ? "
            "WHERE connection_id = ? AND unavailable_since IS NULL RETURNING connection_id",
            (at, connection_id),
        )
        return bool(rows)

    def mark_available(self, connection_id: str) -> bool:
        """True when this ends an outage recorded for the connection."""
        rows = self.t.execute(
            "UPDATE {p}refresh_checks SET unavailable_since = NULL "
            "WHERE connection_id = ? AND unavailable_since IS NOT NULL RETURNING connection_id",
            (connection_id,),
        )
        return bool(rows)

    def unavailable_since(self, connection_id: str) -> str | None:
        rows = self.t.query(
            "SELECT unavailable_since FROM {p}refresh_checks WHERE connection_id = ?",
            (connection_id,),
        )
        return rows[0]["unavailable_since"] if rows else None

"""The access log: one row per use of a connection's Amazon access (a token issued, a
proxied call), kept for ACCESS_LOG_RETENTION (its table: migration 0005)."""

from __future__ import annotations

from typing import Any

from adapters.tables.dialect import Dialect
from adapters.tables.listing import Listing

COLUMNS = (
    "id",
    "tenant_id",
    "connection_id",
    "at",
    "api_key_id",
    "api",
    "kind",
    "method",
    "operation",
    "status",
    "outcome",
    "duration_ms",
    "request_id",
    "amazon_request_id",
)


class AccessLogTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def log(self, rows: list[tuple[Any, ...]]) -> None:
        """Appends entries, each a tuple of values in `COLUMNS` order."""
        if rows:
            self.t.append("access_log", COLUMNS, rows)

    def entries(
        self,
        tenant_id: str,
        connection_id: str | None,
        *,
        limit: int,
        before: tuple[str, str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; `before` is the (at, id) of the last entry of the previous page."""
        rows = (
            Listing(f"SELECT {', '.join(COLUMNS)} FROM {{p}}access_log")
            .where("tenant_id = ?", tenant_id)
            .where("connection_id = ?", connection_id)
            .newest_first("at", "id", before)
            .within("at", since, until)
            .page(self.t, limit)
        )
        return [dict(r) for r in rows]

    def entry_at(self, tenant_id: str, entry_id: str) -> tuple[str, str] | None:
        rows = self.t.query(
            "SELECT at, id FROM {p}access_log WHERE tenant_id = ? AND id = ?",
            (tenant_id, entry_id),
        )
        return (rows[0]["at"], rows[0]["id"]) if rows else None

    def purge(self, before: str, batch: int = 1000) -> int:
        """Deletes entries older than `before`, a batch at a time; how many went."""
        gone = 0
        while True:
            rows = self.t.execute(
                "DELETE FROM {p}access_log WHERE id IN (SELECT id FROM {p}access_log "
                "WHERE at < ? ORDER BY at LIMIT ?) RETURNING id",
                (before, batch),
            )
            gone += len(rows)
            if len(rows) < batch:
                return gone

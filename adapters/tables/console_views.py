"""What the console reads across other families' tables (connections, webhooks, mail),
per tenant, and the console's own record of actions that are no connection event."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from adapters.tables.dialect import Dialect

# A delivery an operator should look at: given up on, or retried three times already.
_STUCK = "(d.status = 'failed' OR (d.status = 'pending' AND d.attempt_count >= 3))"


class ConsoleViewTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def deliveries_of(self, tenant_id: str, connection_id: str, limit: int) -> list[dict[str, Any]]:
        """The connection's webhook deliveries, newest first, with their endpoint's URL."""
        rows = self.t.query(
            "SELECT d.id, d.endpoint_id, d.event_id, d.origin, d.status, d.attempt_count, "
            "d.next_attempt_at, d.last_status_code, d.created_at, d.updated_at, "
            "ev.type AS event_type, e.url AS endpoint_url "
            "FROM {p}webhook_events ev JOIN {p}webhook_deliveries d ON d.event_id = ev.id "
            "LEFT JOIN {p}webhook_endpoints e ON e.id = d.endpoint_id "
            "WHERE ev.tenant_id = ? AND ev.connection_id = ? AND d.tenant_id = ? "
            "ORDER BY d.created_at DESC, d.id DESC LIMIT ?",
            (tenant_id, connection_id, tenant_id, limit),
        )
        return [dict(r) for r in rows]

    def with_stuck_deliveries(self, tenant_id: str, connection_ids: Sequence[str]) -> set[str]:
        if not connection_ids:
            return set()
        marks = ", ".join("?" for _ in connection_ids)
        rows = self.t.query(
            "SELECT DISTINCT ev.connection_id FROM {p}webhook_events ev "
            "JOIN {p}webhook_deliveries d ON d.event_id = ev.id "
            f"WHERE ev.tenant_id = ? AND ev.connection_id IN ({marks}) AND {_STUCK}",
            (tenant_id, *connection_ids),
        )
        return {r["connection_id"] for r in rows}

    def states_created_between(self, tenant_id: str, start: str, end: str) -> dict[str, int]:
        rows = self.t.query(
            "SELECT state, COUNT(*) AS n FROM {p}connections_view WHERE tenant_id = ? "
            "AND created_at >= ? AND created_at < ? GROUP BY state",
            (tenant_id, start, end),
        )
        return {r["state"]: int(r["n"]) for r in rows}

    def delivery_counts(self, tenant_id: str, since: str) -> dict[str, dict[str, int]]:
        """Per endpoint, its deliveries since `since` by status."""
        rows = self.t.query(
            "SELECT endpoint_id, status, COUNT(*) AS n FROM {p}webhook_deliveries "
            "WHERE tenant_id = ? AND created_at >= ? GROUP BY endpoint_id, status",
            (tenant_id, since),
        )
        counts: dict[str, dict[str, int]] = {}
        for r in rows:
            counts.setdefault(r["endpoint_id"], {})[r["status"]] = int(r["n"])
        return counts

    def attempt_counts(self, tenant_id: str, since: str) -> dict[str, tuple[int, int]]:
        """Per endpoint, (attempts, failed attempts) since `since`: an attempt failed
        when the endpoint gave no 2xx answer."""
        rows = self.t.query(
            "SELECT d.endpoint_id, COUNT(*) AS n, SUM(CASE WHEN a.status_code IS NULL OR "
            "a.status_code < 200 OR a.status_code >= 300 THEN 1 ELSE 0 END) AS failed "
            "FROM {p}webhook_attempts a JOIN {p}webhook_deliveries d ON d.id = a.delivery_id "
            "WHERE d.tenant_id = ? AND a.attempted_at >= ? GROUP BY d.endpoint_id",
            (tenant_id, since),
        )
        return {r["endpoint_id"]: (int(r["n"]), int(r["failed"] or 0)) for r in rows}

    def mails_of_tenant(self, tenant_id: str, limit: int) -> list[dict[str, Any]]:
        rows = self.t.query(
            "SELECT id, connection_id, kind, recipient, status, attempt_count, last_error, "
            "created_at, sent_at FROM {p}mail_outbox WHERE tenant_id = ? "
            "ORDER BY created_at DESC, id LIMIT ?",
            (tenant_id, limit),
        )
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------ actions

    def record(
        self, tenant_id: str, connection_id: str, actor: str, action: str, detail: str, at: str
    ) -> None:
        self.t.execute(
            "INSERT INTO {p}console_actions (id, tenant_id, connection_id, actor, action, "
            "detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (f"ca_{secrets.token_hex(10)}", tenant_id, connection_id, actor, action, detail, at),
        )

    def actions_of(self, tenant_id: str, connection_id: str, limit: int) -> list[dict[str, Any]]:
        rows = self.t.query(
            "SELECT * FROM {p}console_actions WHERE tenant_id = ? AND connection_id = ? "
            "ORDER BY at DESC, id LIMIT ?",
            (tenant_id, connection_id, limit),
        )
        return [dict(r) for r in rows]

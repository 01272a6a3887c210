"""The webhook outbox: each connection event as webhooks carry it (`webhook_events`),
stored with one delivery per endpoint that receives it in the transaction that moves the
outbox's tracking position."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.tables.dialect import Dialect, rows_of
from adapters.tables.tracking import advance, position
from adapters.tables.webhook_deliveries import INSERT_DELIVERY
from adapters.tables.webhook_endpoints import EndpointRow, endpoint_of


@dataclass(frozen=True)
class EventRow:
    """One connection event as webhooks carry it; `body` is the exact signed payload."""

    id: str
    tenant_id: str
    type: str
    connection_id: str
    occurred_at: str
    notification_id: int
    body: str


class WebhookOutboxTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def position(self, name: str) -> int:
        return position(self.t, "webhook_tracking", name)

    def tenants_of(self, connection_ids: Sequence[str]) -> dict[str, str]:
        """The tenant of each of these connections the read model holds."""
        if not connection_ids:
            return {}
        among, params = self.t.one_of("id", connection_ids)
        rows = self.t.query(
            f"SELECT id, tenant_id FROM {{p}}connections_view WHERE {among}", params
        )
        return {r["id"]: r["tenant_id"] for r in rows}

    def record(
        self,
        name: str,
        expected: int,
        new: int,
        events: Sequence[EventRow],
        at: str,
        new_id: Any,
        receives: Callable[[EndpointRow, EventRow], bool],
    ) -> int | None:
        """Moves the tracking position from `expected` to `new` and, in the same transaction,
        stores `events` with one delivery per enabled endpoint that `receives` each. None
        (nothing written) when another process moved the position first; else deliveries
        made."""
        with self.t.transaction(commit=True) as c:
            if not advance(self.t, c, "webhook_tracking", name, expected, new):
                return None
            if not events:
                return 0
            among, params = self.t.one_of("tenant_id", sorted({e.tenant_id for e in events}))
            c.execute(
                self.t.sql(f"SELECT * FROM {{p}}webhook_endpoints WHERE enabled = 1 AND {among}"),
                params,
            )
            endpoints = [endpoint_of(r) for r in rows_of(c)]
            deliveries = [
                (new_id(), e.tenant_id, endpoint.id, e.id, "event", at, at, at)
                for e in events
                for endpoint in endpoints
                if receives(endpoint, e)
            ]
            # One executemany per table: psycopg pipelines it (one round trip per batch).
            c.executemany(
                self.t.sql(
                    "INSERT INTO {p}webhook_events (id, tenant_id, type, connection_id, "
                    "occurred_at, notification_id, body) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING"
                ),
                [
                    (
                        e.id,
                        e.tenant_id,
                        e.type,
                        e.connection_id,
                        e.occurred_at,
                        e.notification_id,
                        e.body,
                    )
                    for e in events
                ],
            )
            c.executemany(self.t.sql(INSERT_DELIVERY + " ON CONFLICT DO NOTHING"), deliveries)
            return len(deliveries)

    def events_between(
        self, tenant_id: str, start: str, end: str, limit: int
    ) -> list[tuple[str, str]]:
        rows = self.t.query(
            "SELECT id, type FROM {p}webhook_events WHERE tenant_id = ? AND occurred_at >= ? "
            "AND occurred_at < ? ORDER BY notification_id LIMIT ?",
            (tenant_id, start, end, limit),
        )
        return [(r["id"], r["type"]) for r in rows]

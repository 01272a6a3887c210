"""Webhook endpoints: where a tenant's webhooks go, with the secrets that sign them (stored
encrypted) and the failing streak that disables an endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.tables.dialect import Dialect, rows_of
from adapters.tables.listing import Listing

ENDPOINT_COLUMNS = (
    "id, tenant_id, url, description, event_types, enabled, disabled_reason, "
    "secret_encrypted, previous_secret_encrypted, previous_secret_expires_at, "
    "failing_since, created_at, updated_at"
)


@dataclass(frozen=True)
class EndpointRow:
    id: str
    tenant_id: str
    url: str
    description: str | None
    event_types: tuple[str, ...]
    enabled: bool
    disabled_reason: str | None
    secret_encrypted: str
    previous_secret_encrypted: str | None
    previous_secret_expires_at: str | None
    failing_since: str | None
    created_at: str
    updated_at: str


class WebhookEndpointTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def insert_endpoint(self, e: EndpointRow) -> None:
        self.t.execute(
            f"INSERT INTO {{p}}webhook_endpoints ({ENDPOINT_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _endpoint_values(e),
        )

    def endpoint(self, tenant_id: str, endpoint_id: str) -> EndpointRow | None:
        rows = self.t.query(
            "SELECT * FROM {p}webhook_endpoints WHERE id = ? AND tenant_id = ?",
            (endpoint_id, tenant_id),
        )
        return endpoint_of(rows[0]) if rows else None

    def endpoints(
        self, tenant_id: str, limit: int, starting_after: EndpointRow | None = None
    ) -> list[EndpointRow]:
        before = None if starting_after is None else (starting_after.created_at, starting_after.id)
        rows = (
            Listing("SELECT * FROM {p}webhook_endpoints")
            .where("tenant_id = ?", tenant_id)
            .newest_first("created_at", "id", before)
            .page(self.t, limit)
        )
        return [endpoint_of(r) for r in rows]

    def update_endpoint(self, e: EndpointRow) -> None:
        self.t.execute(
            "UPDATE {p}webhook_endpoints SET url = ?, description = ?, event_types = ?, "
            "enabled = ?, disabled_reason = ?, secret_encrypted = ?, "
            "previous_secret_encrypted = ?, previous_secret_expires_at = ?, failing_since = ?, "
            "updated_at = ? WHERE id = ? AND tenant_id = ?",
            (
                e.url,
                e.description,
                " ".join(e.event_types),
                int(e.enabled),
                e.disabled_reason,
                e.secret_encrypted,
                e.previous_secret_encrypted,
                e.previous_secret_expires_at,
                e.failing_since,
                e.updated_at,
                e.id,
                e.tenant_id,
            ),
        )

    def delete_endpoint(self, tenant_id: str, endpoint_id: str) -> bool:
        """Removes the endpoint with its deliveries and their attempts. Deliveries go
        first: `finish` locks a delivery and then its endpoint, so the same order here
        cannot deadlock with it."""
        if self.endpoint(tenant_id, endpoint_id) is None:
            return False
        with self.t.transaction(commit=True) as c:
            c.execute(
                self.t.sql(
                    "DELETE FROM {p}webhook_attempts WHERE delivery_id IN "
                    "(SELECT id FROM {p}webhook_deliveries WHERE endpoint_id = ?)"
                ),
                (endpoint_id,),
            )
            c.execute(
                self.t.sql("DELETE FROM {p}webhook_deliveries WHERE endpoint_id = ?"),
                (endpoint_id,),
            )
            c.execute(
                self.t.sql(
                    "DELETE FROM {p}webhook_endpoints WHERE id = ? AND tenant_id = ? RETURNING id"
                ),
                (endpoint_id, tenant_id),
            )
            return bool(rows_of(c))

    def subscribed_tenants(self, tenant_ids: Sequence[str]) -> set[str]:
        """Which of these tenants have an enabled endpoint now."""
        if not tenant_ids:
            return set()
        among, params = self.t.one_of("tenant_id", tenant_ids)
        rows = self.t.query(
            f"SELECT DISTINCT tenant_id FROM {{p}}webhook_endpoints WHERE enabled = 1 AND {among}",
            params,
        )
        return {r["tenant_id"] for r in rows}


def _endpoint_values(e: EndpointRow) -> tuple[Any, ...]:
    return (
        e.id,
        e.tenant_id,
        e.url,
        e.description,
        " ".join(e.event_types),
        int(e.enabled),
        e.disabled_reason,
        e.secret_encrypted,
        e.previous_secret_encrypted,
        e.previous_secret_expires_at,
        e.failing_since,
        e.created_at,
        e.updated_at,
    )


def endpoint_of(row: Any) -> EndpointRow:
    values = {k: row[k] for k in EndpointRow.__dataclass_fields__}
    values["event_types"] = tuple(values["event_types"].split())
    values["enabled"] = bool(values["enabled"])
    return EndpointRow(**values)

"""Tenant origins: where a connection's `return_url` may send the owner's browser back to."""

from __future__ import annotations

from adapters.tables.dialect import Dialect


class TenantOriginRows(Dialect):
    """The tenant origin statements, part of `Tables` (`base`)."""

    def allow_origin(self, tenant_id: str, origin: str, at: str) -> bool:
        """False when the origin was already registered."""
        rows = self.execute(
            "INSERT INTO {p}tenant_origins (tenant_id, origin, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING origin",
            (tenant_id, origin, at),
        )
        return bool(rows)

    def remove_origin(self, tenant_id: str, origin: str) -> bool:
        rows = self.execute(
            "DELETE FROM {p}tenant_origins WHERE tenant_id = ? AND origin = ? RETURNING origin",
            (tenant_id, origin),
        )
        return bool(rows)

    def origins(self, tenant_id: str | None = None) -> list[tuple[str, str]]:
        """(tenant, origin) pairs, by tenant then origin."""
        where, params = ("WHERE tenant_id = ? ", (tenant_id,)) if tenant_id else ("", ())
        rows = self.query(
            "SELECT tenant_id, origin FROM {p}tenant_origins "
            + where
            + "ORDER BY tenant_id, origin",
            params,
        )
        return [(r["tenant_id"], r["origin"]) for r in rows]

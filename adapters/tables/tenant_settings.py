"""Per-tenant settings the owner sees: the display name, the support e-mail, e-mails on/off."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.tables.dialect import Dialect


@dataclass(frozen=True)
class TenantSettingsRow:
    tenant_id: str
    display_name: str
    support_email: str | None
    emails_enabled: bool


class TenantTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def get(self, tenant_id: str) -> TenantSettingsRow | None:
        rows = self.t.query("SELECT * FROM {p}tenant_settings WHERE tenant_id = ?", (tenant_id,))
        if not rows:
            return None
        r = rows[0]
        return TenantSettingsRow(
            r["tenant_id"], r["display_name"], r["support_email"], bool(r["emails_enabled"])
        )

    def put(self, row: TenantSettingsRow, at: str) -> None:
        self.t.execute(
            "INSERT INTO {p}tenant_settings "
            "(tenant_id, display_name, support_email, emails_enabled, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET "
            "display_name = excluded.display_name, support_email = excluded.support_email, "
            "emails_enabled = excluded.emails_enabled, updated_at = excluded.updated_at",
            (row.tenant_id, row.display_name, row.support_email, int(row.emails_enabled), at),
        )

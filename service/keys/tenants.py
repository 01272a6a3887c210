"""Tenant settings (`connections tenants set`): the name and support address the owner
reads on pages and in mail, and whether the tenant's owners get e-mail at all."""

from __future__ import annotations

from typing import Any

from adapters.tables.instants import iso
from adapters.tables.tenant_settings import TenantSettingsRow, TenantTables


class TenantProfiles:
    def __init__(self, tables: TenantTables, clock: Any) -> None:
        self.tables = tables
        self.clock = clock

    def get(self, tenant_id: str) -> TenantSettingsRow:
        """The tenant's settings; an unset tenant is shown by its id, with e-mails on."""
        return self.tables.get(tenant_id) or TenantSettingsRow(tenant_id, tenant_id, None, True)

    def set(
        self,
        tenant_id: str,
        *,
        display_name: str | None = None,
        support_email: str | None = None,
        emails_enabled: bool | None = None,
    ) -> TenantSettingsRow:
        """Changes what is given and keeps the rest."""
        now = self.get(tenant_id)
        row = TenantSettingsRow(
            tenant_id,
            display_name if display_name is not None else now.display_name,
            support_email if support_email is not None else now.support_email,
            emails_enabled if emails_enabled is not None else now.emails_enabled,
        )
        self.tables.put(row, iso(self.clock.now()) or "")
        return row

"""The console's people (migration 0011): one row per tenant and e-mail address, with a
role and, once they set one, an argon2id password hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.tables.dialect import Dialect


@dataclass(frozen=True)
class ConsoleUserRow:
    tenant_id: str
    email: str
    role: str
    password_hash: str | None
    created_at: str


class ConsoleUserTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def put(self, tenant_id: str, email: str, role: str, at: str) -> None:
        """Adds the person, or changes their role (their password stays)."""
        self.t.execute(
            "INSERT INTO {p}console_users (tenant_id, email, role, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, email) DO UPDATE SET role = excluded.role",
            (tenant_id, email, role, at),
        )

    def get(self, tenant_id: str, email: str) -> ConsoleUserRow | None:
        rows = self.t.query(
            "SELECT * FROM {p}console_users WHERE tenant_id = ? AND email = ?", (tenant_id, email)
        )
        return _user(rows[0]) if rows else None

    def of_email(self, email: str) -> list[ConsoleUserRow]:
        """Every tenant's row for the address, in tenant order."""
        rows = self.t.query(
            "SELECT * FROM {p}console_users WHERE email = ? ORDER BY tenant_id", (email,)
        )
        return [_user(r) for r in rows]

    def of_tenant(self, tenant_id: str) -> list[ConsoleUserRow]:
        rows = self.t.query(
            "SELECT * FROM {p}console_users WHERE tenant_id = ? ORDER BY email", (tenant_id,)
        )
        return [_user(r) for r in rows]

    def remove(self, tenant_id: str, email: str) -> bool:
        """Removes the person and ends their sessions, in one transaction."""
        with self.t.transaction(commit=True) as c:
            c.execute(
                self.t.sql("DELETE FROM {p}console_sessions WHERE tenant_id = ? AND email = ?"),
                (tenant_id, email),
            )
            c.execute(
                self.t.sql(
                    "DELETE FROM {p}console_users WHERE tenant_id = ? AND email = ? RETURNING email"
                ),
                (tenant_id, email),
            )
            return bool(c.fetchall())

    def set_password(self, tenant_id: str, email: str, password_hash: str) -> None:
        self.t.execute(
            "UPDATE {p}console_users SET password_hash = ? WHERE tenant_id = ? AND email = ?",
            (password_hash, tenant_id, email),
        )


def _user(r: Any) -> ConsoleUserRow:
    return ConsoleUserRow(**{k: r[k] for k in ConsoleUserRow.__dataclass_fields__})

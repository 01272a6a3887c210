"""API keys: only a key's hash is stored, with its tenant, name and scopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.tables.dialect import Dialect, rows_of


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    tenant_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class ApiKeyRows(Dialect):
    """The API key statements, part of `Tables` (`base`)."""

    def insert_api_key(self, record: ApiKeyRecord, key_hash: str) -> None:
        self.execute(
            "INSERT INTO {p}api_keys (id, tenant_id, name, key_hash, scopes, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.tenant_id,
                record.name,
                key_hash,
                " ".join(record.scopes),
                record.created_at,
            ),
        )

    def api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        rows = self.query("SELECT * FROM {p}api_keys WHERE key_hash = ?", (key_hash,))
        return _api_key(rows[0]) if rows else None

    def api_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        if tenant_id is None:
            rows = self.query("SELECT * FROM {p}api_keys ORDER BY created_at")
        else:
            rows = self.query(
                "SELECT * FROM {p}api_keys WHERE tenant_id = ? ORDER BY created_at", (tenant_id,)
            )
        return [_api_key(r) for r in rows]

    def touch_api_key(self, key_id: str, at: str) -> None:
        self.execute("UPDATE {p}api_keys SET last_used_at = ? WHERE id = ?", (at, key_id))

    def revoke_api_key(self, key_id: str, at: str) -> bool:
        """Revokes and, in the same transaction, tells every process (their key caches,
        service.keys.api_keys) where the database can: the notification is delivered only
        if the revocation commits."""
        with self.transaction(commit=True) as c:
            c.execute(
                self.sql(
                    "UPDATE {p}api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL "
                    "RETURNING id"
                ),
                (at, key_id),
            )
            if not rows_of(c):
                return False
            if self.api_key_channel is not None:
                self.notify(c, self.api_key_channel, key_id)
            return True


def _api_key(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        scopes=tuple(row["scopes"].split()),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )

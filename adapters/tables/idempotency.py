"""Idempotency keys: a key is reserved (status 0) before the request runs, so two
concurrent requests with one key cannot both execute; the response is stored when it
completes and replayed for a retry."""

from __future__ import annotations

import json
from typing import Any

from adapters.tables.dialect import Dialect


class IdempotencyKeyRows(Dialect):
    """The idempotency key statements, part of `Tables` (`base`)."""

    def reserve_idempotency_key(self, tenant_id: str, key: str, fingerprint: str, at: str) -> bool:
        rows = self.execute(
            "INSERT INTO {p}idempotency_keys "
            "(tenant_id, key, fingerprint, status, body, headers, created_at) "
            "VALUES (?, ?, ?, 0, '', '{}', ?) ON CONFLICT DO NOTHING RETURNING key",
            (tenant_id, key, fingerprint, at),
        )
        return bool(rows)

    def idempotent_response(self, tenant_id: str, key: str) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT fingerprint, status, body, headers, created_at FROM {p}idempotency_keys "
            "WHERE tenant_id = ? AND key = ?",
            (tenant_id, key),
        )
        if not rows:
            return None
        row = rows[0]
        return {
            "fingerprint": row["fingerprint"],
            "status": row["status"],
            "body": row["body"],
            "headers": json.loads(row["headers"]),
            "created_at": row["created_at"],
        }

    def complete_idempotency_key(
        self, tenant_id: str, key: str, status: int, body: str, headers: dict[str, str]
    ) -> None:
        self.execute(
            "UPDATE {p}idempotency_keys SET status = ?, body = ?, headers = ? "
            "WHERE tenant_id = ? AND key = ?",
            (status, body, json.dumps(headers), tenant_id, key),
        )

    def release_idempotency_key(self, tenant_id: str, key: str) -> None:
        self.execute(
            "DELETE FROM {p}idempotency_keys WHERE tenant_id = ? AND key = ? AND status = 0",
            (tenant_id, key),
        )

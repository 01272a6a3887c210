"""The shared access-token cache and the access log, beside the event store (their
tables: migration 0005).

Access tokens are secrets for an hour: only their ciphertext is stored. One row per
connection and API holds the current token and a lease: the process that wins the lease
(a compare-and-set, the same SQL on SQLite and PostgreSQL) refreshes with LWA while the
others wait and read what it wrote, so one LWA refresh happens however many processes ask.
No database lock is held during the call to Amazon. `generation` moves on every outcome,
so a waiter can tell "the refresh it waited for failed" from "nothing happened yet".
Where the database has notifications (PostgreSQL), every change of a row's token is
announced on `channel` with the connection id, by a trigger (migration 0006) in the
transaction that made it: processes that keep decrypted tokens in memory
(service.credentials.memory) drop theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.tables.base import Tables


@dataclass(frozen=True)
class CachedToken:
    token_encrypted: str | None
    expires_at: str | None
    lease_holder: str | None
    lease_until: str | None
    generation: int
    failure_code: str | None
    failure_detail: str | None


_LOG_COLUMNS = (
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


class AccessTokenTables:
    def __init__(self, tables: Tables) -> None:
        self.t = tables
        self.channel: str | None = getattr(tables, "access_token_channel", None)
        self.on_change: Callable[[str], None] | None = None  # told this process's changes

    def _changing_token(self, text: str, params: tuple[Any, ...], connection_id: str) -> None:
        self.t.execute(text, params)  # other processes hear of it from the trigger
        if self.on_change is not None:
            self.on_change(connection_id)

    def read(self, connection_id: str, api: str) -> CachedToken | None:
        rows = self.t.query(
            "SELECT token_encrypted, expires_at, lease_holder, lease_until, generation, "
            "failure_code, failure_detail FROM {p}access_tokens "
            "WHERE connection_id = ? AND api = ?",
            (connection_id, api),
        )
        return CachedToken(**dict(rows[0])) if rows else None

    def claim(
        self, connection_id: str, api: str, holder: str, now: str, until: str, fresh_after: str
    ) -> bool:
        """Takes the refresh lease unless another holder's lease runs or the cached token
        is still fresh (it expires after `fresh_after`): the re-read and the claim are one
        statement, so two processes never both win."""
        rows = self.t.execute(
            "INSERT INTO {p}access_tokens (connection_id, api, lease_holder, lease_until) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (connection_id, api) DO UPDATE "
            "SET lease_holder = excluded.lease_holder, lease_until = excluded.lease_until "
            "WHERE (access_tokens.lease_until IS NULL OR access_tokens.lease_until < ?) "
            "AND (access_tokens.expires_at IS NULL OR access_tokens.expires_at <= ?) "
            "RETURNING connection_id",
            (connection_id, api, holder, until, now, fresh_after),
        )
        return bool(rows)

    def store(
        self,
        connection_id: str,
        api: str,
        holder: str,
        token_encrypted: str,
        expires_at: str,
        now: str,
    ) -> None:
        self._changing_token(
            "UPDATE {p}access_tokens SET token_encrypted = ?, expires_at = ?, refreshed_at = ?, "
            "lease_holder = NULL, lease_until = NULL, generation = generation + 1, "
            "failure_code = NULL, failure_detail = NULL "
            "WHERE connection_id = ? AND api = ? AND lease_holder = ?",
            (token_encrypted, expires_at, now, connection_id, api, holder),
            connection_id,
        )

    def fail(self, connection_id: str, api: str, holder: str, code: str, detail: str) -> None:
        self.t.execute(
            "UPDATE {p}access_tokens SET lease_holder = NULL, lease_until = NULL, "
            "generation = generation + 1, failure_code = ?, failure_detail = ? "
            "WHERE connection_id = ? AND api = ? AND lease_holder = ?",
            (code, detail, connection_id, api, holder),
        )

    def expire(self, connection_id: str, api: str, token_encrypted: str) -> None:
        """Marks this cached token stale, unless another one replaced it meanwhile."""
        self._changing_token(
            "UPDATE {p}access_tokens SET expires_at = NULL "
            "WHERE connection_id = ? AND api = ? AND token_encrypted = ?",
            (connection_id, api, token_encrypted),
            connection_id,
        )

    def forget(self, connection_id: str) -> None:
        """Drops the cached tokens (access revoked): a revoked token is never handed out."""
        self._changing_token(
            "UPDATE {p}access_tokens SET token_encrypted = NULL, expires_at = NULL "
            "WHERE connection_id = ?",
            (connection_id,),
            connection_id,
        )

    # The access log

    def log(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        columns = ", ".join(_LOG_COLUMNS)
        marks = ", ".join("?" for _ in _LOG_COLUMNS)
        with self.t.transaction(commit=True) as c:
            c.executemany(
                self.t.sql(f"INSERT INTO {{p}}access_log ({columns}) VALUES ({marks})"),
                [tuple(e.get(k) for k in _LOG_COLUMNS) for e in entries],
            )

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
        where, params = ["tenant_id = ?"], [tenant_id]
        if connection_id is not None:
            where.append("connection_id = ?")
            params.append(connection_id)
        if before is not None:
            where.append("(at < ? OR (at = ? AND id < ?))")
            params.extend([before[0], before[0], before[1]])
        if since is not None:
            where.append("at >= ?")
            params.append(since)
        if until is not None:
            where.append("at < ?")
            params.append(until)
        rows = self.t.query(
            f"SELECT {', '.join(_LOG_COLUMNS)} FROM {{p}}access_log "
            f"WHERE {' AND '.join(where)} ORDER BY at DESC, id DESC LIMIT ?",
            (*params, limit),
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

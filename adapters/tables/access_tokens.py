"""The shared access-token cache, beside the event store (its table: migration 0005).

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

from adapters.tables.dialect import Dialect


@dataclass(frozen=True)
class CachedToken:
    token_encrypted: str | None
    expires_at: str | None
    lease_holder: str | None
    lease_until: str | None
    generation: int
    failure_code: str | None
    failure_detail: str | None


class AccessTokenTables:
    def __init__(self, tables: Dialect) -> None:
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

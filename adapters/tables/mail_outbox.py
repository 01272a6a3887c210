"""The mail outbox: one row per mail and recipient, written in the transaction that moves
the mail follower's tracking position, then leased, sent and finished by the dispatcher.

A row keeps only what the mail says in facts (no rendered text): the owner's link is a
credential, so it is computed again when the mail is rendered and never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.tables.dialect import Dialect
from adapters.tables.tracking import advance, position

PENDING, SENT, KEPT, FAILED, SUPPRESSED = "pending", "sent", "kept", "failed", "suppressed"
_COLUMNS = (
    "id, tenant_id, connection_id, event_id, position, kind, recipient, facts, status, "
    "attempt_count, next_attempt_at, created_at, updated_at"
)


@dataclass(frozen=True)
class MailRow:
    id: str
    tenant_id: str
    connection_id: str
    event_id: str
    position: int
    kind: str
    recipient: str
    facts: str  # JSON
    status: str
    attempt_count: int = 0
    next_attempt_at: str | None = None
    last_error: str | None = None
    created_at: str = ""
    updated_at: str = ""
    sent_at: str | None = None


class MailTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables
        self._row_lock = tables.skip_locked.format(alias="m")

    def position(self, name: str) -> int:
        return position(self.t, "mail_tracking", name)

    def record(self, name: str, expected: int, new: int, mails: Sequence[MailRow]) -> bool:
        """Moves the tracking position from `expected` to `new` and stores `mails` in the
        same transaction; False (nothing written) when another process moved it first."""
        with self.t.transaction(commit=True) as c:
            if not advance(self.t, c, "mail_tracking", name, expected, new):
                return False
            if mails:
                c.executemany(
                    self.t.sql(
                        f"INSERT INTO {{p}}mail_outbox ({_COLUMNS}) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
                    ),
                    [
                        (
                            m.id,
                            m.tenant_id,
                            m.connection_id,
                            m.event_id,
                            m.position,
                            m.kind,
                            m.recipient,
                            m.facts,
                            m.status,
                            0,
                            m.next_attempt_at,
                            m.created_at,
                            m.created_at,
                        )
                        for m in mails
                    ],
                )
            return True

    def add(self, mail: MailRow) -> bool:
        """A mail no event produced (the Login URI's continue link), ordered after every
        mail so far; False when a row with its id exists already."""
        rows = self.t.execute(
            f"INSERT INTO {{p}}mail_outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, "
            "(SELECT COALESCE(MAX(position), 0) FROM {p}mail_outbox), ?, ?, ?, ?, 0, ?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING id",
            (
                mail.id,
                mail.tenant_id,
                mail.connection_id,
                mail.event_id,
                mail.kind,
                mail.recipient,
                mail.facts,
                mail.status,
                mail.next_attempt_at,
                mail.created_at,
                mail.created_at,
            ),
        )
        return bool(rows)

    def queued_since(self, connection_id: str, kind: str, since: str) -> bool:
        rows = self.t.query(
            "SELECT id FROM {p}mail_outbox WHERE connection_id = ? AND kind = ? "
            "AND created_at > ? LIMIT 1",
            (connection_id, kind, since),
        )
        return bool(rows)

    def claim(self, now: str, lease_until: str, token: str, limit: int) -> list[MailRow]:
        """Leases due mails; an expired lease (a worker that died) is claimable again."""
        rows = self.t.execute(
            "UPDATE {p}mail_outbox SET lease_until = ?, lease_token = ? WHERE id IN ("
            "SELECT m.id FROM {p}mail_outbox m WHERE m.status = 'pending' "
            "AND m.next_attempt_at <= ? AND (m.lease_until IS NULL OR m.lease_until <= ?) "
            "ORDER BY m.next_attempt_at LIMIT ?" + self._row_lock + ") RETURNING *",
            (lease_until, token, now, now, limit),
        )
        return sorted((_mail(r) for r in rows), key=lambda m: (m.next_attempt_at or "", m.id))

    def finish(
        self,
        mail_id: str,
        token: str,
        *,
        status: str,
        attempts: int,
        at: str,
        next_attempt_at: str | None = None,
        error: str | None = None,
    ) -> None:
        self.t.execute(
            "UPDATE {p}mail_outbox SET status = ?, attempt_count = ?, next_attempt_at = ?, "
            "last_error = ?, updated_at = ?, sent_at = ?, lease_until = NULL, "
            "lease_token = NULL WHERE id = ? AND lease_token = ?",
            (
                status,
                attempts,
                next_attempt_at,
                error,
                at,
                at if status in (SENT, KEPT) else None,
                mail_id,
                token,
            ),
        )

    def keep(self, token: str, at: str) -> None:
        """Every mail leased with `token` kept unsent (the sandbox), in one statement."""
        self.t.execute(
            "UPDATE {p}mail_outbox SET status = ?, attempt_count = attempt_count + 1, "
            "next_attempt_at = NULL, last_error = NULL, updated_at = ?, sent_at = ?, "
            "lease_until = NULL, lease_token = NULL WHERE lease_token = ?",
            (KEPT, at, at, token),
        )

    def release(self, token: str) -> None:
        self.t.execute(
            "UPDATE {p}mail_outbox SET lease_until = NULL, lease_token = NULL "
            "WHERE lease_token = ?",
            (token,),
        )

    def of_connection(self, tenant_id: str, connection_id: str) -> list[MailRow]:
        rows = self.t.query(
            "SELECT * FROM {p}mail_outbox WHERE tenant_id = ? AND connection_id = ? "
            "ORDER BY position, created_at, id",  # a continue link: after the mails before it
            (tenant_id, connection_id),
        )
        return [_mail(r) for r in rows]

    def latest(self, limit: int) -> list[MailRow]:
        rows = self.t.query(
            "SELECT * FROM {p}mail_outbox ORDER BY position DESC, id LIMIT ?", (limit,)
        )
        return [_mail(r) for r in rows]

    def get(self, mail_id: str) -> MailRow | None:
        rows = self.t.query("SELECT * FROM {p}mail_outbox WHERE id = ?", (mail_id,))
        return _mail(rows[0]) if rows else None


def _mail(r: Any) -> MailRow:
    return MailRow(**{k: r[k] for k in MailRow.__dataclass_fields__})

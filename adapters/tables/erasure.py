"""What erasure (SPEC §14) does to the service's own tables for one connection: personal
values in the read model's event feed, webhook bodies and their attempts' answers, mail
records and Amazon's failure texts are overwritten with ERASED; idempotency records that
replay the connection are deleted. Each step is idempotent.

On SQLite the database is then vacuumed and its write-ahead log truncated: an overwritten
row's old bytes otherwise stay in free pages and in the log (PostgreSQL's old row versions
are vacuumed by the server and never reach a dump).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from adapters.tables.dialect import Dialect
from adapters.tables.mail_outbox import PENDING, SUPPRESSED
from domain.personal import ERASED, erased_everywhere

# What a mail says of a person (service.mail.outbox's facts).
_MAIL_FACTS = ("owner_email", "inviter_name")


class ErasureTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables
        # A stored idempotent response as text (they are kept encrypted: set by the
        # composition root to the service's key ring).
        self.opened: Callable[[str], str] = lambda body: body

    def scrub(self, tenant_id: str, connection_id: str) -> None:
        self.scrub_event_feed(connection_id)
        self.scrub_webhooks(connection_id)
        self.scrub_mail(connection_id)
        self.scrub_credentials(connection_id)
        self.drop_idempotency_records(tenant_id, connection_id)

    def scrub_event_feed(self, connection_id: str) -> None:
        self._rewrite_json(
            "events_index", "position", "document", "connection_id = ?", connection_id
        )

    def scrub_webhooks(self, connection_id: str) -> None:
        self._rewrite_json("webhook_events", "id", "body", "connection_id = ?", connection_id)
        # What receivers answered (they may echo the body) and the errors met sending it.
        self.t.execute(
            "UPDATE {p}webhook_attempts SET response_body = NULL, error = NULL "
            "WHERE delivery_id IN (SELECT d.id FROM {p}webhook_deliveries d "
            "JOIN {p}webhook_events e ON e.id = d.event_id WHERE e.connection_id = ?)",
            (connection_id,),
        )

    def scrub_mail(self, connection_id: str) -> None:
        rows = self.t.query(
            "SELECT id, facts FROM {p}mail_outbox WHERE connection_id = ? AND recipient <> ?",
            (connection_id, ERASED),
        )
        with self.t.transaction(commit=True) as c:
            for row in rows:
                facts = json.loads(row["facts"])
                for key in _MAIL_FACTS:
                    if facts.get(key) is not None:
                        facts[key] = ERASED
                c.execute(
                    self.t.sql(
                        "UPDATE {p}mail_outbox SET recipient = ?, facts = ?, last_error = ?, "
                        "status = CASE WHEN status = ? THEN ? ELSE status END, "
                        "next_attempt_at = CASE WHEN status = ? THEN NULL "
                        "ELSE next_attempt_at END WHERE id = ?"
                    ),
                    (
                        ERASED,
                        json.dumps(erased_everywhere(facts), sort_keys=True),
                        ERASED,
                        PENDING,
                        SUPPRESSED,
                        PENDING,
                        row["id"],
                    ),
                )
                # A mail's id is a hash of its event, kind and recipient: one could test
                # addresses against it. A random one takes its place.
                new_id = f"ml_{secrets.token_hex(12)}"
                for table, column in (("mail_outbox", "id"), ("login_links_spent", "mail_id")):
                    c.execute(
                        self.t.sql(f"UPDATE {{p}}{table} SET {column} = ? WHERE {column} = ?"),
                        (new_id, row["id"]),
                    )

    def scrub_credentials(self, connection_id: str) -> None:
        """Amazon's failure texts kept with the shared access token."""
        self.t.execute(
            "UPDATE {p}access_tokens SET failure_detail = NULL WHERE connection_id = ?",
            (connection_id,),
        )

    def drop_idempotency_records(self, tenant_id: str, connection_id: str) -> None:
        """Stored responses that would replay the connection as it was (the tenant's are
        opened one by one: they are stored encrypted)."""
        rows = self.t.query(
            "SELECT key, body FROM {p}idempotency_keys WHERE tenant_id = ? AND status <> 0",
            (tenant_id,),
        )
        for row in rows:
            try:
                body = self.opened(row["body"])
            except ValueError:  # made with no configured key: nobody can read it
                continue
            if connection_id in body:
                self.t.execute(
                    "DELETE FROM {p}idempotency_keys WHERE tenant_id = ? AND key = ?",
                    (tenant_id, row["key"]),
                )

    def compact(self) -> None:
        """SQLite only: no old page or log frame keeps an overwritten value."""

    def _rewrite_json(self, table: str, key: str, column: str, where: str, value: Any) -> None:
        rows = self.t.query(f"SELECT {key}, {column} FROM {{p}}{table} WHERE {where}", (value,))
        with self.t.transaction(commit=True) as c:
            for row in rows:
                document = json.dumps(
                    erased_everywhere(json.loads(row[column])), separators=(",", ":")
                )
                c.execute(
                    self.t.sql(f"UPDATE {{p}}{table} SET {column} = ? WHERE {key} = ?"),
                    (document, row[key]),
                )


class SQLiteErasureTables(ErasureTables):
    def compact(self) -> None:
        # The library's pooled connection, as the writer (the pool lets one at a time);
        # the sqlite3 connection under it runs in autocommit, as VACUUM needs.
        with self.t.datastore.get_connection(commit=True) as pooled:
            raw = pooled._sqlite_conn
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")

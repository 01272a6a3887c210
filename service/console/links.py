"""The console's one-time sign-in links, e-mailed through the mail outbox.

A link names a mail row (signed with a key derived from SECRET_KEY), never a person or a
tenant; the link itself is never stored (the mail composer computes it on render, as for
the Login URI's continue links). It works once (spent in the store, so in one process
only), within LIFETIME of the mail, and only while its person may still use the console.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from adapters.crypto import Signer
from adapters.tables.console_sessions import ConsoleSessionTables
from adapters.tables.instants import iso
from adapters.tables.mail_outbox import PENDING, SUPPRESSED, MailRow
from service.console.people import ConsolePeople, Person
from service.mail.compose import CONSOLE_SIGN_IN

LIFETIME = timedelta(minutes=15)


class SignInLinks:
    def __init__(
        self,
        key: bytes,
        public_base_url: str,
        people: ConsolePeople,
        tables: ConsoleSessionTables,
        services: Any,
    ) -> None:
        self._signer = Signer(key.hex())
        self.base = public_base_url.rstrip("/")
        self.people = people
        self.tables = tables
        self.services = services  # its mail outbox and clock, built after this

    def url(self, mail_id: str) -> str:
        return f"{self.base}/console/sign-in/{self._signer.sign({'m': mail_id})}"

    def send(self, person: Person) -> None:
        mail, now = self.services.mail, self.services.clock.now()
        status, reason = PENDING, None
        if mail.outbox.transport is None:
            status, reason = SUPPRESSED, "e-mail is not configured (SMTP_URL)"
        facts = {"minutes": int(LIFETIME.total_seconds() // 60), "occurred_at": iso(now)}
        mail.tables.add(
            MailRow(
                id=f"ml_{secrets.token_hex(12)}",
                tenant_id=person.tenant_id,
                connection_id="",  # about no connection: no connection's e-mails list it
                event_id="",
                position=0,
                kind=CONSOLE_SIGN_IN,
                recipient=person.email,
                facts=json.dumps(facts, sort_keys=True),
                status=status,
                next_attempt_at=iso(now) if status == PENDING else None,
                last_error=reason,
                created_at=iso(now) or "",
            )
        )
        self.services.waker.wake()

    def mail_of(self, token: str) -> MailRow | None:
        """The sign-in mail the link names, if the link is genuine and still young."""
        payload = self._signer.unsign(token)
        if not payload or not isinstance(payload.get("m"), str):
            return None
        row = self.services.mail.tables.get(payload["m"])
        if row is None or row.kind != CONSOLE_SIGN_IN:
            return None
        if self.services.clock.now() - datetime.fromisoformat(row.created_at) > LIFETIME:
            return None
        return None if self.tables.link_spent(row.id) else row

    def redeem(self, token: str) -> Person | None:
        """The person the link signs in, once; None for anything else."""
        row = self.mail_of(token)
        if row is None:
            return None
        if not self.tables.spend_link(row.id, iso(self.services.clock.now()) or ""):
            return None
        return self.people.get(row.tenant_id, row.recipient)

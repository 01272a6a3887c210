"""The mail outbox: follows the notification log like the webhook outbox
(`service.follower`: a tracking position moved by compare-and-set, with the rows it
produced in the same transaction), so any number of workers may run it and each event is
mailed once."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from adapters.tables.instants import iso
from adapters.tables.mail_outbox import PENDING, SUPPRESSED, MailRow, MailTables
from domain.connection import Connection
from domain.marketplaces import REGIONS
from service.connections.latest_states import LatestStates
from service.connections.presenters import event_id
from service.follower import Follower

# Which events are mailed, to whom: "owner" is owner_email, "inviter" invited_by.email.
MAILED: dict[type, tuple[str, tuple[str, ...]]] = {
    Connection.Invited: ("invitation", ("owner",)),
    Connection.InvitationResent: ("invitation", ("owner",)),
    Connection.AuthorizationFailed: ("attempt_failed", ("inviter",)),
    Connection.Activated: ("connected", ("owner", "inviter")),
    Connection.ReauthReminded: ("reauth_reminder", ("owner",)),
    Connection.ReauthMarkedDue: ("access_lost", ("owner",)),
    Connection.Lapsed: ("lapsed", ("owner",)),
}

# The Login URI's continue link (service.connect.continue_links): at most one per
# connection per THROTTLE, however often the neutral page's button is pressed.
LOGIN_LINK = "login_link"
THROTTLE = timedelta(minutes=10)


class MailOutbox:
    name = "mail_outbox"

    def __init__(
        self,
        app: Any,
        tables: MailTables,
        tenants: Any,
        clock: Any,
        transport: str | None,
        faults: Any,
    ) -> None:
        self.app = app
        self.tables = tables
        self.tenants = tenants
        self.clock = clock
        self.transport = transport  # None: mail is not configured here, so nothing is sent
        self.follower = Follower(self, app, faults, clock, batch=200)
        # Each mailed event's connection, as of that event: a first event is the whole
        # connection, and a resent invitation follows the one before it.
        self.states = LatestStates(app)

    def catch_up(self, until: int | None = None) -> int:
        """Processes everything recorded so far (or up to `until`); returns how many
        mails it queued."""
        return self.follower.catch_up(until)

    # The follower's step (service.follower.Step).

    def position(self) -> int:
        return self.tables.position(self.name)

    def prepare(self, notifications: Any) -> list[MailRow]:
        tenants: dict[str, Any] = {}  # each tenant's profile read once per batch
        return [m for n in notifications for m in self._mails(n, tenants)]

    def commit(self, expected: int, new: int, prepared: list[MailRow]) -> int | None:
        return len(prepared) if self.tables.record(self.name, expected, new, prepared) else None

    def _mails(self, notification: Any, tenants: dict[str, Any]) -> list[MailRow]:
        if not notification.topic.endswith(tuple(t.__qualname__ for t in MAILED)):
            return []  # most events are no one's mail: skip decoding them
        e = self.app.mapper.to_domain_event(notification)
        if type(e) not in MAILED:
            return []
        if isinstance(e, Connection.ReauthMarkedDue) and not e.error:
            return []  # the yearly notice: the 30-day reminder says it
        kind, audience = MAILED[type(e)]
        c = self.states.after(e)
        recipients = _recipients(c, audience)
        if not recipients:
            return []
        tenant = tenants.get(c.tenant_id)
        if tenant is None:
            tenant = tenants[c.tenant_id] = self.tenants.get(c.tenant_id)
        status, reason = PENDING, None
        if not tenant.emails_enabled:
            status, reason = SUPPRESSED, "e-mails are turned off for this tenant"
        elif self.transport is None:
            status, reason = SUPPRESSED, "e-mail is not configured (SMTP_URL)"
        facts = json.dumps(_facts(c, e), sort_keys=True)
        now = iso(self.clock.now()) or ""
        eid = event_id(e.originator_id, e.originator_version)
        return [
            MailRow(
                id=_mail_id(eid, kind, to),
                tenant_id=c.tenant_id,
                connection_id=str(c.id),
                event_id=eid,
                position=notification.id,
                kind=kind,
                recipient=to,
                facts=facts,
                status=status,
                next_attempt_at=now if status == PENDING else None,
                last_error=reason,
                created_at=now,
            )
            for to in recipients
        ]

    def login_link(self, c: Connection, sealed_request: str) -> bool:
        """Queues the Login URI's continue link for the owner address on file (SPEC §12);
        False when one was queued for this connection in the last THROTTLE, or there is no
        address. Not an event's mail: asking for it changes nothing on the connection. The
        row's id is fixed per connection and THROTTLE-long period, so two requests at once
        queue one mail."""
        if not c.owner_email:
            return False
        now = self.clock.now()
        if self.tables.queued_since(str(c.id), LOGIN_LINK, iso(now - THROTTLE) or ""):
            return False
        tenant = self.tenants.get(c.tenant_id)
        status, reason = PENDING, None
        if not tenant.emails_enabled:
            status, reason = SUPPRESSED, "e-mails are turned off for this tenant"
        elif self.transport is None:
            status, reason = SUPPRESSED, "e-mail is not configured (SMTP_URL)"
        period = int(now.timestamp() // THROTTLE.total_seconds())
        facts = {**_facts(c, None), "occurred_at": iso(now), "request": sealed_request}
        return self.tables.add(
            MailRow(
                id=_mail_id(f"{c.id}/{period}", LOGIN_LINK, c.owner_email),
                tenant_id=c.tenant_id,
                connection_id=str(c.id),
                event_id=event_id(c.id, c.version),  # the connection as the mail found it
                position=0,  # the table places it after every mail so far
                kind=LOGIN_LINK,
                recipient=c.owner_email,
                facts=json.dumps(facts, sort_keys=True),
                status=status,
                next_attempt_at=iso(now) if status == PENDING else None,
                last_error=reason,
                created_at=iso(now) or "",
            )
        )


def _recipients(c: Connection, audience: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for who in audience:
        address = c.owner_email if who == "owner" else (c.invited_by or {}).get("email")
        if address and address.lower() not in (a.lower() for a in found):
            found.append(address)
    return found


def _facts(c: Connection, e: Any) -> dict[str, Any]:
    """What the mail says, as of its event; nothing secret (the link is added on render)."""
    names = REGIONS.get(c.region, {})
    who = c.invited_by or {}
    return {
        "owner_email": c.owner_email,
        "inviter_name": who.get("name") or who.get("email"),
        "inviter_role": who.get("role"),
        "marketplaces": [names.get(m, m) for m in c.marketplace_ids],
        "error_code": (c.last_error or {}).get("code"),
        "days_left": getattr(e, "days_left", None),
        "lapses_at": iso(c.lapses_at),
        "invitation_expires_at": iso(c.invitation_expires_at),
        "occurred_at": iso(e.timestamp) if e is not None else None,
        "selling_partner_id": c.selling_partner_id,
    }


def _mail_id(eid: str, kind: str, recipient: str) -> str:
    digest = hashlib.sha256(f"{eid}/{kind}/{recipient.lower()}".encode()).hexdigest()
    return f"ml_{digest[:24]}"

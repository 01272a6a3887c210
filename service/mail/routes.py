"""`GET /v1/connections/{id}/emails`: what was (or will be) mailed about a connection, to
whom, and how its delivery went. Never the mail's text: it carries the owner's link."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from adapters.tables.mail_outbox import MailRow
from service.api.auth import caller_of, requires
from service.api.responses import EmailList, ok
from service.api.threads import blocking
from service.connections.presenters import rfc3339


def _at(value: str | None) -> str | None:
    from datetime import datetime

    return rfc3339(datetime.fromisoformat(value)) if value else None


def email_json(mail: MailRow, subject: str) -> dict[str, Any]:
    return {
        "id": mail.id,
        "object": "email",
        "connection_id": mail.connection_id,
        "event_id": mail.event_id,
        "kind": mail.kind,
        "to": mail.recipient,
        "subject": subject,
        "status": mail.status,
        "attempts": mail.attempt_count,
        "last_error": mail.last_error,
        "next_attempt_at": _at(mail.next_attempt_at) if mail.status == "pending" else None,
        "created_at": _at(mail.created_at),
        "sent_at": _at(mail.sent_at),
    }


@get(
    "/v1/connections/{connection_id:str}/emails",
    guards=[requires("connections:read")],
    operation_id="listConnectionEmails",
    responses=ok(EmailList, "The connection's e-mails"),
    tags=["connections"],
    summary="E-mails about the connection and their delivery status",
)
@blocking
def list_emails(request: Request, connection_id: str) -> dict[str, Any]:
    services = request.app.state.services
    caller = caller_of(request)
    services.app.load(caller.tenant_id, connection_id)  # 404 for another tenant's
    mail = services.mail
    rows = mail.tables.of_connection(caller.tenant_id, connection_id)
    data = [email_json(m, mail.composer.render(m)[0]) for m in rows]
    return {"object": "list", "data": data, "has_more": False}


ROUTES = [list_emails]

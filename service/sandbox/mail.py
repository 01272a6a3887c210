"""The sandbox's mailbox (/sandbox/mail): in sandbox mode without SMTP_URL mails are kept
instead of sent, and a person trying `make run` reads them here, links included.
Sandbox only: it lists every tenant's mail, as the sandbox Amazon serves every tenant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get

from service.api.pages import HTML, render, security_headers
from service.api.threads import blocking

TEMPLATES = Path(__file__).with_name("templates")
SHOWN = 200


def _mail(request: Request) -> Any:
    return request.app.state.services.mail


@get("/", include_in_schema=False)
@blocking
def mailbox(request: Request) -> Response:
    mail = _mail(request)
    rows = mail.tables.latest(SHOWN)
    items = [{"row": m, "subject": mail.composer.render(m)[0]} for m in rows]
    return render(request, "sandbox_mailbox.html", {"title": "Sandbox mailbox", "items": items})


@get("/{mail_id:str}", include_in_schema=False)
@blocking
def message(request: Request, mail_id: str) -> Response:
    mail = _mail(request)
    row = mail.tables.get(mail_id)
    if row is None:
        return render(
            request,
            "sandbox_mailbox.html",
            {"title": "No such mail", "items": [], "missing": mail_id},
            status=404,
        )
    subject, text, _ = mail.composer.render(row)
    context = {"title": subject, "row": row, "text": text, "mail_from": mail.composer.mail_from}
    return render(request, "sandbox_mail.html", context)


@get("/{mail_id:str}/html", include_in_schema=False)
@blocking
def html_part(request: Request, mail_id: str) -> Response:
    """The HTML part as a mail client shows it (inline styles, nothing loaded)."""
    mail = _mail(request)
    row = mail.tables.get(mail_id)
    if row is None:
        return Response("No such mail", status_code=404, media_type="text/plain")
    headers = security_headers()
    headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'none'"
    )
    return Response(mail.composer.render(row)[2], media_type=HTML, headers=headers)


def mailbox_router() -> Router:
    return Router(
        path="/sandbox/mail",
        route_handlers=[mailbox, message, html_part],
        include_in_schema=False,
    )

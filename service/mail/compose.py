"""Rendering a mail row into a message: plain text and HTML parts from templates, the
owner's link computed again (it is never stored), the tenant's current name and support
address, and a Message-ID made from the row's id so a resend is recognisably the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from adapters.tables.mail_outbox import MailRow
from domain.errors import entry
from service.mail.headers import checked, header_text, single_address

SUBJECTS = {
    "invitation": "{inviter} asks you to connect your Amazon account to {tenant}",
    "attempt_failed": "The Amazon connection for {owner} did not finish: {error}",
    "connected": "Your Amazon account is connected to {tenant}",
    "connected_inviter": "The Amazon account of {owner} is connected to {tenant}",
    "reauth_reminder": "Reconnect your Amazon account to {tenant} within {days}",
    "access_lost": "{tenant} lost access to your Amazon account: please reconnect",
    "lapsed": "Your Amazon connection to {tenant} has lapsed: please reconnect",
    "login_link": "Your link to re-authorize your Amazon account for {tenant}",
    "console_sign_in": "Your sign-in link for the {tenant} console",
}
LOGIN_LINK = "login_link"  # its link is the one-time continue link, not the invitation
# The console's one-time sign-in link (service.console): to a member of staff, about no
# connection; its link, like the continue link's, is computed from the row's id on render.
CONSOLE_SIGN_IN = "console_sign_in"


def when(at: str | None) -> str | None:
    if not at:
        return None
    return datetime.fromisoformat(at).strftime("%d %B %Y, %H:%M UTC").lstrip("0")


class Composer:
    def __init__(
        self,
        links: Any,
        tenants: Any,
        mail_from: str,
        continue_url: Callable[[str], str] | None = None,
        console_url: Callable[[str], str] | None = None,
    ) -> None:
        self.links = links
        self.continue_url = continue_url
        self.console_url = console_url
        self.tenants = tenants
        self.mail_from = mail_from
        self.env = Environment(
            loader=FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def context(self, mail: MailRow) -> dict[str, Any]:
        facts = json.loads(mail.facts)
        if mail.kind == CONSOLE_SIGN_IN:
            return self._console_context(mail, facts)
        facts.pop("request", None)  # the Login URI's sealed request: the link's business
        if mail.kind == LOGIN_LINK and self.continue_url is not None:
            link = self.continue_url(mail.id)
        else:
            link = self.links.url(mail.connection_id)
        tenant = self.tenants.get(mail.tenant_id)
        error = entry(facts["error_code"]) if facts.get("error_code") else None
        inviter = facts.get("inviter_name") or tenant.display_name
        return {
            **facts,
            "kind": mail.kind,
            "tenant": tenant,
            "inviter": inviter,
            "to_owner": mail.recipient.lower() == facts["owner_email"].lower(),
            "link": link,
            "error": error,
            "connection_id": mail.connection_id,
            "lapses_on": when(facts.get("lapses_at")),
            "expires_on": when(facts.get("invitation_expires_at")),
            "attempted": when(facts.get("occurred_at")),
        }

    def _console_context(self, mail: MailRow, facts: dict[str, Any]) -> dict[str, Any]:
        link = self.console_url(mail.id) if self.console_url is not None else ""
        tenant = self.tenants.get(mail.tenant_id)
        return {
            "kind": mail.kind,
            "tenant": tenant,
            "recipient": mail.recipient,
            "link": link,
            "minutes": facts.get("minutes", 15),
            "inviter": tenant.display_name,
            "to_owner": False,
            "owner_email": "",
            "error": None,
        }

    def subject(self, mail: MailRow, ctx: dict[str, Any]) -> str:
        kind = mail.kind
        if kind == "connected" and not ctx["to_owner"]:
            kind = "connected_inviter"
        return header_text(
            SUBJECTS[kind].format(
                inviter=ctx["inviter"],
                tenant=ctx["tenant"].display_name,
                owner=ctx["owner_email"],
                error=ctx["error"].title if ctx["error"] else "",
                days=_days(ctx.get("days_left")),
            )
        )

    def render(self, mail: MailRow) -> tuple[str, str, str]:
        """(subject, text, html)."""
        ctx = self.context(mail)
        text = self.env.get_template(f"{mail.kind}.txt").render(**ctx)
        html = self.env.get_template(f"{mail.kind}.html").render(**ctx)
        return self.subject(mail, ctx), text, html

    def message(self, mail: MailRow) -> EmailMessage:
        subject, text, html = self.render(mail)
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = single_address(mail.recipient)
        message["Subject"] = subject
        message["Date"] = format_datetime(datetime.fromisoformat(mail.created_at))
        domain = self.mail_from.rsplit("@", 1)[-1].strip(">") or "localhost"
        message["Message-ID"] = f"<{mail.id}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return checked(message)


def _days(n: int | None) -> str:
    return f"{n} day" if n == 1 else f"{n} days"

"""E-mail to the owner and to whoever invited them (SPEC §10).

A request handler never sends mail. The outbox (`outbox.py`) follows the event log: each
event that concerns a person becomes one row per recipient, in the transaction that moves
the outbox's tracking position, so a crash loses nothing and no event is mailed twice.
The dispatcher (`dispatcher.py`) leases due rows, renders them (`compose.py`, templates in
`templates/`) and sends them through `adapters.mail_sender`, retrying with backoff. In
sandbox mode without `SMTP_URL` mails are kept and listed at /sandbox/mail instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.mail_sender import SmtpSender
from adapters.tables.mail_outbox import MailTables
from service.mail.compose import Composer
from service.mail.dispatcher import RETRY_DELAYS, MailDispatcher
from service.mail.outbox import MailOutbox

__all__ = ["RETRY_DELAYS", "Mail", "build_mail"]


@dataclass
class Mail:
    outbox: MailOutbox
    dispatcher: MailDispatcher
    composer: Composer
    tables: MailTables

    def run_once(self) -> int:
        """One worker pass: turn new events into mails, then send what is due."""
        return self.outbox.catch_up() + self.dispatcher.run_once()


def build_mail(services: Any, sender: Any = None) -> Mail:
    settings = services.settings
    tables = MailTables(services.tables)
    if sender is None and settings.smtp_url:
        sender = SmtpSender(settings.smtp_url)
    transport = "smtp" if sender is not None else ("sandbox" if settings.sandbox else None)
    continue_links = getattr(services, "continue_links", None)
    console = getattr(services, "console", None)  # its sign-in links (service.console)
    composer = Composer(
        services.links,
        services.tenants,
        settings.mail_from,
        continue_url=continue_links.url if continue_links is not None else None,
        console_url=console.links.url if console is not None else None,
    )
    return Mail(
        outbox=MailOutbox(
            services.app, tables, services.tenants, services.clock, transport, services.faults
        ),
        dispatcher=MailDispatcher(tables, composer, sender, services.clock),
        composer=composer,
        tables=tables,
    )

"""Sends due mails: leases them, renders, hands them to the sender, records the outcome.
A failure that may pass (the SMTP server down, a 4xx) is retried after each of
RETRY_DELAYS in turn; a refusal (5xx) or the last retry's failure marks the mail failed."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from adapters.mail_sender import SendOutcome
from adapters.tables.instants import iso
from adapters.tables.mail_outbox import FAILED, KEPT, PENDING, SENT, MailRow, MailTables
from service.mail.headers import UnrenderableMail

log = logging.getLogger(__name__)

RETRY_DELAYS = tuple(
    timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 86400)
)
LEASE = timedelta(minutes=2)
BATCH = 20


class MailDispatcher:
    def __init__(self, tables: MailTables, composer: Any, sender: Any, clock: Any) -> None:
        self.tables = tables
        self.composer = composer
        self.sender = sender  # None: sandbox, the mail is kept for /sandbox/mail
        self.clock = clock

    def run_once(self) -> int:
        now = self.clock.now()
        token = secrets.token_hex(8)
        claimed = self.tables.claim(iso(now) or "", iso(now + LEASE) or "", token, BATCH)
        if claimed and self.sender is None:  # the sandbox keeps them: nothing to send
            self.tables.keep(token, iso(now) or "")
            return len(claimed)
        for mail in claimed:
            if not self._deliver(mail, token):
                # The server is unreachable: the rest wait for the next pass instead of
                # each costing a timeout here (the worker has other work).
                self.tables.release(token)
                break
        return len(claimed)

    def _deliver(self, mail: MailRow, token: str) -> bool:
        """False when the server could not be reached at all."""
        attempts = mail.attempt_count + 1
        if self.sender is None:
            outcome = SendOutcome(True)
        else:
            try:
                outcome = self.sender.send(self.composer.message(mail))
            except UnrenderableMail as e:  # its data will not change: it fails once, visibly
                outcome = SendOutcome(False, False, f"the mail cannot be built: {e}")
            except Exception:  # a template fault or a store hiccup: retried
                if attempts == 1:  # the traceback once, not on every retry
                    log.exception("mail %s could not be rendered", mail.id)
                outcome = SendOutcome(False, True, "the mail could not be rendered")
        now = self.clock.now()
        if outcome.sent:
            status, next_at = (SENT if self.sender is not None else KEPT), None
        elif outcome.retryable and attempts <= len(RETRY_DELAYS):
            status, next_at = PENDING, iso(now + RETRY_DELAYS[attempts - 1])
        else:
            status, next_at = FAILED, None
        if not outcome.sent:
            log.warning(
                "mail %s (%s) not sent, attempt %d: %s", mail.id, mail.kind, attempts, outcome.error
            )
        self.tables.finish(
            mail.id,
            token,
            status=status,
            attempts=attempts,
            at=iso(now) or "",
            next_attempt_at=next_at,
            error=outcome.error,
        )
        return outcome.sent or not outcome.retryable

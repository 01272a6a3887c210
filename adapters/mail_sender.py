"""Sending one e-mail over SMTP with the standard library (`smtplib`, `email`).

`SMTP_URL` is `smtp://[user:pass@]host[:port]` (port 25 by default; STARTTLS whenever the
server offers it, and credentials are never sent over a connection without TLS except to
a loopback server) or `smtps://…` (implicit TLS, port 465). The outcome says whether a
failure is worth retrying: a 4xx answer or a lost connection is, a 5xx refusal is not.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from adapters.special_addresses import is_loopback

TIMEOUT_SECONDS = 15.0


class SmtpUrlError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpTarget:
    implicit_tls: bool
    host: str
    port: int
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SmtpUrlError("smtp://[user:pass@]host[:port] or smtps://…")
        try:
            port = parts.port
        except ValueError:
            raise SmtpUrlError("a port from 1 to 65535") from None
        implicit = parts.scheme == "smtps"
        return cls(
            implicit_tls=implicit,
            host=parts.hostname,
            port=port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


@dataclass(frozen=True)
class SendOutcome:
    sent: bool
    retryable: bool = False
    error: str | None = None


class SmtpSender:
    def __init__(self, url: str, tls: ssl.SSLContext | None = None) -> None:
        self.target = SmtpTarget.parse(url)
        self.tls = tls or ssl.create_default_context()

    def send(self, message: EmailMessage) -> SendOutcome:
        t = self.target
        try:
            if t.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    t.host, t.port, timeout=TIMEOUT_SECONDS, context=self.tls
                )
            else:
                client = smtplib.SMTP(t.host, t.port, timeout=TIMEOUT_SECONDS)
            with client:
                client.ehlo()
                secure = t.implicit_tls
                if not secure and client.has_extn("starttls"):
                    client.starttls(context=self.tls)
                    client.ehlo()
                    secure = True
                if t.username:
                    if not secure and not t.loopback:
                        return SendOutcome(
                            False, False, "the SMTP server offers no STARTTLS: credentials kept"
                        )
                    client.login(t.username, t.password or "")
                refused = client.send_message(message)
            if refused:
                return SendOutcome(False, False, f"recipients refused: {sorted(refused)}")
            return SendOutcome(True)
        except smtplib.SMTPResponseException as e:
            return SendOutcome(False, 400 <= e.smtp_code < 500, f"SMTP {e.smtp_code}")
        except smtplib.SMTPRecipientsRefused as e:
            codes = [code for code, _ in e.recipients.values()]
            temporary = all(400 <= code < 500 for code in codes)
            return SendOutcome(False, temporary, f"recipients refused: {codes}")
        except (OSError, smtplib.SMTPException) as e:  # refused, reset, timed out, TLS
            return SendOutcome(False, True, f"{type(e).__name__}: cannot reach the SMTP server")

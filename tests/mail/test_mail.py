"""E-mail through a real SMTP server on loopback (aiosmtpd), on each store (SPEC §10).

The mail outbox follows the event log; these tests run its worker pass by hand, as the
worker thread would, and read what the server received.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from adapters.mail_sender import SmtpSender
from domain.errors import entry
from domain.permissions import REQUIRED_SC_PERMISSIONS
from service.mail import RETRY_DELAYS
from service.workers.deadlines import Deadlines
from tests.conftest import START, LiveService, consent, free_port, start_service

OWNER, INVITER = "owner@shop.example", "jane@agency.example"


@dataclass
class Inbox:
    """What the SMTP server received: one message per recipient per delivery."""

    messages: list[tuple[str, EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt, parsed))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if rcpt == address]


def smtp_server(port: int, inbox: Inbox, **kwargs: Any) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox, list[Controller]]]:
    port, inbox = free_port(), Inbox()
    servers = [smtp_server(port, inbox)]
    yield port, inbox, servers
    for server in servers:
        try:
            server.stop()
        except AssertionError:
            pass  # already stopped by the test


@pytest.fixture
def mailing(database_url: str, smtp: Any) -> Iterator[LiveService]:
    port, _, _ = smtp
    service = start_service(
        database_url, SMTP_URL=f"smtp://127.0.0.1:{port}", MAIL_FROM="Acme <no-reply@acme.example>"
    )
    service.services.tenants.set("tenant_a", display_name="Acme Repricer")
    yield service
    service.stop()


def run_mail(live: LiveService, passes: int = 3) -> None:
    for _ in range(passes):
        live.services.mail.run_once()


def subject(message: EmailMessage) -> str:
    return " ".join(str(message["Subject"]).split())  # unfolded, as a mail client shows it


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no {subtype} part"
    return part.get_content()


def create(api: Any, **fields: Any) -> dict[str, Any]:
    response = api.post(
        "/v1/connections",
        json={
            "owner_email": OWNER,
            "region": "na",
            "marketplace_ids": ["ATVPDKIKX0DER"],
            "invited_by": {"name": "Jane Doe", "email": INVITER, "role": "agency"},
            **fields,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_each_mail_arrives_once_with_its_recipients_and_the_owners_link(mailing, smtp):
    _, inbox, _ = smtp
    with mailing.client() as api:
        c = create(api)
        run_mail(mailing)
        [invitation] = inbox.to(OWNER)
        assert invitation["From"] == "Acme <no-reply@acme.example>"
        assert "Jane Doe asks you to connect your Amazon account to Acme Repricer" in str(
            invitation["Subject"]
        )
        assert c["invitation_url"] in body(invitation, "plain")
        assert f'href="{c["invitation_url"]}"' in body(invitation, "html")
        assert inbox.to(INVITER) == []

        started = api.post(f"/v1/connections/{c['id']}/start_authorization").json()
        consent(api, started["consent_url"], "MARKETPLACE_NOT_PARTICIPATING")
        run_mail(mailing)
        [failed] = inbox.to(INVITER)
        assert entry("MARKETPLACE_NOT_PARTICIPATING").title in subject(failed)
        assert entry("MARKETPLACE_NOT_PARTICIPATING").remediation[0] in body(failed, "plain")
        assert len(inbox.to(OWNER)) == 1

        started = api.post(f"/v1/connections/{c['id']}/start_authorization").json()
        consent(api, started["consent_url"])
        api.post(f"/v1/connections/{c['id']}/invite_seller_central_user").raise_for_status()
        api.post(
            f"/v1/connections/{c['id']}/confirm_seller_central_user",
            json={"permissions": REQUIRED_SC_PERMISSIONS},
        ).raise_for_status()
        api.post(f"/v1/connections/{c['id']}/activate").raise_for_status()
        run_mail(mailing, passes=5)

        assert [subject(m) for m in inbox.to(OWNER)][1:] == [
            "Your Amazon account is connected to Acme Repricer"
        ]
        assert subject(inbox.to(INVITER)[1]) == (
            "The Amazon account of owner@shop.example is connected to Acme Repricer"
        )
        assert len(inbox.to(INVITER)) == 2
        assert "is now connected" in body(inbox.to(OWNER)[1], "plain")
        ids = [m["Message-ID"] for _, m in inbox.messages]
        assert len(ids) == len(set(ids)) == 4

        listed = api.get(f"/v1/connections/{c['id']}/emails").json()["data"]
        assert [(e["kind"], e["to"], e["status"]) for e in listed[:2]] == [
            ("invitation", OWNER, "sent"),
            ("attempt_failed", INVITER, "sent"),
        ]
        assert sorted((e["kind"], e["to"], e["status"]) for e in listed[2:]) == [
            ("connected", INVITER, "sent"),
            ("connected", OWNER, "sent"),
        ]
        token = c["invitation_url"].rsplit("/", 1)[1]
        stored = mailing.services.tables.query("SELECT * FROM {p}mail_outbox")
        assert stored and all(token not in str(dict(row)) for row in stored)


def test_an_smtp_outage_delays_mail_and_loses_none(sqlite_url, smtp):
    port, inbox, servers = smtp
    servers[0].stop()
    live = start_service(sqlite_url, SMTP_URL=f"smtp://127.0.0.1:{port}")
    try:
        with live.client() as api:
            made = [create(api, owner_email=f"owner{i}@shop.example")["id"] for i in range(3)]
            run_mail(live)
            for cid in made:
                [mail] = api.get(f"/v1/connections/{cid}/emails").json()["data"]
                assert mail["status"] == "pending" and mail["last_error"]
            assert mail["attempts"] <= 1
            servers.append(smtp_server(port, inbox))
            run_mail(live)
            assert inbox.messages == []  # not before the retry is due
            live.clock.advance(RETRY_DELAYS[0] + timedelta(seconds=1))
            run_mail(live)
            received = sorted(rcpt for rcpt, _ in inbox.messages)
            assert received == [f"owner{i}@shop.example" for i in range(3)]
            run_mail(live)
            live.clock.advance(timedelta(hours=1))
            run_mail(live)
            assert len(inbox.messages) == 3
            for cid in made:
                [mail] = api.get(f"/v1/connections/{cid}/emails").json()["data"]
                assert mail["status"] == "sent"
    finally:
        live.stop()


def test_a_tenant_with_emails_off_gets_none_sent(sqlite_url, smtp):
    port, inbox, _ = smtp
    live = start_service(sqlite_url, SMTP_URL=f"smtp://127.0.0.1:{port}")
    try:
        live.services.tenants.set("tenant_a", emails_enabled=False)
        with live.client() as api:
            c = create(api)
            api.post(f"/v1/connections/{c['id']}/resend_invitation").raise_for_status()
            run_mail(live)
            live.clock.advance(timedelta(days=2))
            run_mail(live)
            assert inbox.messages == []
            listed = api.get(f"/v1/connections/{c['id']}/emails").json()["data"]
            assert {e["status"] for e in listed} == {"suppressed"} and len(listed) == 2
    finally:
        live.stop()


def test_yearly_reminders_and_the_lapse_reach_the_owner(sqlite_url, smtp):
    port, inbox, _ = smtp
    live = start_service(sqlite_url, SMTP_URL=f"smtp://127.0.0.1:{port}")
    try:
        with live.client() as api:
            c = create(api, requires_seller_central_user=False)
            started = api.post(f"/v1/connections/{c['id']}/start_authorization").json()
            consent(api, started["consent_url"])
            api.post(f"/v1/connections/{c['id']}/activate").raise_for_status()
            deadlines = Deadlines(live.services)
            for day in (336, 359, 364, 366):
                at = START + timedelta(days=day)
                live.clock.set(at)
                while deadlines.run_once(at):
                    pass
                run_mail(live)
        subjects = [subject(m) for m in inbox.to(OWNER)]
        assert [s for s in subjects if "within" in s] == [
            f"Reconnect your Amazon account to tenant_a within {d}"
            for d in ("30 days", "7 days", "1 day")
        ]
        assert sum("has lapsed" in s for s in subjects) == 1
        assert c["invitation_url"] in body(inbox.to(OWNER)[-1], "plain")
    finally:
        live.stop()


# ------------------------------------------------------------------ TLS, the adapter alone


def _certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    from ipaddress import ip_address

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@acme.example", to, "hello"
    message.set_content("hello")
    return message


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
def test_the_sender_speaks_starttls_and_implicit_tls_with_credentials(tmp_path, mode):
    cert, key = _certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    logins: list[str] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any):
        logins.append(f"{auth.login.decode()}:{auth.password.decode()}")
        # handled=False: aiosmtpd answers a refusal with 535, as a real server does (by
        # default it leaves the answer to the authenticator, and the client waits 15 s).
        return AuthResult(success=auth.password == b"s3cret/pass", handled=False)

    inbox, port = Inbox(), free_port()
    options: dict[str, Any] = {"authenticator": authenticator, "auth_required": True}
    if mode == "starttls":
        options |= {"tls_context": server_tls, "require_starttls": True}
        url = f"smtp://mailer:s3cret%2Fpass@127.0.0.1:{port}"
    else:
        options |= {"ssl_context": server_tls, "auth_require_tls": False}
        url = f"smtps://mailer:s3cret%2Fpass@127.0.0.1:{port}"
    server = smtp_server(port, inbox, **options)
    try:
        outcome = SmtpSender(url, tls=client_tls).send(_message(OWNER))
        assert outcome.sent, outcome.error
        assert [rcpt for rcpt, _ in inbox.messages] == [OWNER]
        assert logins == ["mailer:s3cret/pass"]
        wrong = SmtpSender(url.replace("s3cret", "wrong"), tls=client_tls).send(_message(OWNER))
        assert not wrong.sent and "wrong" not in (wrong.error or "")
        assert not wrong.retryable  # refused credentials stay refused
        untrusted = SmtpSender(url).send(_message(OWNER))  # a certificate nobody vouches for
        assert not untrusted.sent and untrusted.retryable
    finally:
        server.stop()
    assert len(inbox.messages) == 1


def test_mail_settings_are_checked_at_start_and_the_password_never_shown():
    from service.settings import ConfigError, Settings

    env = {"SANDBOX": "1", "SECRET_KEY": "k" * 40, "DATABASE_URL": "sqlite:///:memory:"}
    good = Settings.from_env({**env, "SMTP_URL": "smtps://mailer:hunter2-secret@mail.example"})
    assert "hunter2" not in repr(good) and "hunter2" not in str(good.masked())
    assert good.masked()["smtp_url"] == "smtps://mailer:********@mail.example"
    for bad in ("http://mail.example", "smtp://", "smtp://mail.example:99999"):
        with pytest.raises(ConfigError, match="SMTP_URL"):
            Settings.from_env({**env, "SMTP_URL": bad})
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        Settings.from_env({**env, "MAIL_FROM": "nobody"})

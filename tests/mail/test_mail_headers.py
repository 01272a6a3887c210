"""No text a tenant or a caller gives becomes a mail header or a second recipient, on any
Python release (CVE-2024-6923: this machine's 3.11.7 decodes an encoded-word in a header value
and writes its line break out unquoted), through a real SMTP server on loopback."""

from __future__ import annotations

import email.policy
import sys
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage

import pytest

from tests.mail.test_mail import INVITER, OWNER, create, run_mail, subject

INJECTION = "=?utf-8?q?Ann=0D=0ABcc:_x=40evil.example=0D=0AReply-To:_x=40evil.example?="
EXPECTED_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "mime-version",
    "content-type",
}


def header_names(message: EmailMessage) -> set[str]:
    return {name.lower() for name in message.keys()}


def test_this_python_would_let_an_encoded_word_add_headers():
    """The premise: on a release with CVE-2024-6923 a plain assignment injects headers, so
    the tests below prove the service's own guard, not the interpreter's."""
    message = EmailMessage()
    message["Subject"] = f"{INJECTION} asks you to connect"
    message.set_content("hi")
    try:
        parsed = message_from_bytes(message.as_bytes(), policy=email.policy.default)
    except Exception:  # a patched release refuses to write such a header
        pytest.skip(f"Python {sys.version.split()[0]} is patched")
    if "bcc" not in header_names(parsed):
        pytest.skip(f"Python {sys.version.split()[0]} is patched")
    assert parsed["Bcc"] == "x@evil.example"


def test_an_encoded_word_in_the_inviters_name_or_a_list_of_addresses_is_refused(mailing, smtp):
    _, inbox, _ = smtp
    with mailing.client() as api:
        for body in (
            {"invited_by": {"name": INJECTION, "email": INVITER, "role": "agency"}},
            {"owner_email": "root,owner@shop.example"},
            {"owner_email": "=?utf-8?q?root=0D=0A?=@shop.example"},
            {"invited_by": {"name": "Jane", "email": "a@b.example, c@d.example", "role": "agency"}},
        ):
            response = api.post(
                "/v1/connections",
                json={"owner_email": OWNER, "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}
                | body,
            )
            assert response.status_code == 422, (body, response.text)
            assert response.json()["code"] == "VALIDATION_ERROR"
        assert api.get("/v1/connections").json()["data"] == []
    run_mail(mailing)
    assert inbox.messages == []


def test_a_tenant_name_holding_an_encoded_word_reaches_the_subject_as_text(mailing, smtp):
    """A name stored before the CLI refused `=?` (or written by hand) still cannot inject."""
    _, inbox, _ = smtp
    mailing.services.tenants.set("tenant_a", display_name=INJECTION)
    with mailing.client() as api:
        create(api, invited_by=None)
    run_mail(mailing)
    assert [rcpt for rcpt, _ in inbox.messages] == [OWNER]
    [invitation] = inbox.to(OWNER)
    assert header_names(invitation) == EXPECTED_HEADERS
    assert "=0D=0ABcc:_x=40evil.example" in subject(invitation).replace("\u2060", "")


def test_a_mail_that_cannot_be_built_fails_once_with_its_reason(mailing, smtp):
    _, inbox, _ = smtp
    with mailing.client() as api:
        c = create(api)
    mailing.services.mail.outbox.catch_up()
    mailing.services.tables.execute(
        "UPDATE {p}mail_outbox SET recipient = ? WHERE connection_id = ?",
        ["root,owner@shop.example", c["id"]],
    )
    for _ in range(3):
        mailing.services.mail.dispatcher.run_once()
        mailing.clock.advance(timedelta(hours=1))
    [row] = mailing.services.mail.tables.of_connection("tenant_a", c["id"])
    assert row.status == "failed"
    assert row.attempt_count == 1
    assert "cannot be built" in (row.last_error or "")
    assert inbox.messages == []

"""Erasure (SPEC §14) on both stores: a connection walked to `active` with a distinctive
value in every personal field, mailed over SMTP and announced to a webhook receiver, is
disconnected and erased; then no dump of the store holds any of its values nor their
plain hashes, every chain verifies, the history and every read show the erasure, and
another connection keeps its values."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import LiveService, start_service
from tests.erasure.forgotten import (
    assert_forgotten,
    dump,
    personal,
    values_of,
    walk_to_active,
)
from tests.mail.test_mail import smtp  # noqa: F401  (the real SMTP server, aiosmtpd)
from tests.webhooks.fixtures import Receiver, receiver  # noqa: F401

ERASED = "[erased]"


@pytest.fixture
def live(database_url: str, smtp: Any) -> Iterator[LiveService]:  # noqa: F811
    port, _, _ = smtp
    service = start_service(
        database_url, SMTP_URL=f"smtp://127.0.0.1:{port}", WEBHOOK_ALLOW_PRIVATE="1"
    )
    yield service
    service.stop()


def drain(live: LiveService) -> None:
    for _ in range(3):
        live.services.projection.catch_up()
        live.services.webhooks.run_once()
        live.services.mail.run_once()


def test_an_erased_connection_is_forgotten_everywhere_and_its_history_still_verifies(
    live: LiveService,
    database_url: str,
    smtp: Any,  # noqa: F811
    receiver: Receiver,  # noqa: F811
):
    _, inbox, _ = smtp
    api = live.client(
        scopes=["connections:read", "connections:write", "webhooks:manage", "audit:read", "admin"]
    )
    hook = api.post("/v1/webhook_endpoints", json={"url": receiver.url, "event_types": ["*"]})
    assert hook.status_code == 201, hook.text
    gone, kept = personal("4471"), personal("8802")
    erased_id = walk_to_active(api, gone)
    kept_id = walk_to_active(api, kept)
    # A token issued and an Amazon call proxied: the access log holds rows of it.
    with live.client(scopes=["credentials:read"]) as backend:
        token = backend.post(f"/v1/connections/{erased_id}/access_tokens", json={"api": "sp-api"})
    assert token.status_code in (200, 201), token.text
    drain(live)
    # The values left the service before erasure: by mail, and in signed webhook bodies.
    assert inbox.to(gone["owner_email"]) and inbox.to(gone["invited_by"]["email"])
    assert any(gone["owner_email"] in r.body for r in receiver.requests)
    assert api.get("/v1/connections", params={"owner_email": gone["owner_email"]}).json()["data"]
    before = api.get(f"/v1/connections/{erased_id}").json()["updated_at"]
    # The search below finds what it looks for: the mail records name their recipients.
    assert gone["owner_email"].encode() in dump(database_url)

    mail_ids = [m.id for m in live.services.mail.outbox.tables.of_connection("tenant_a", erased_id)]

    # Only a disconnected connection: a problem with a stable code and what is allowed.
    refused = api.post(f"/v1/connections/{erased_id}/erase", json={"reason": "ticket 1"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "INVALID_TRANSITION"
    assert "disconnect" in refused.json()["allowed_actions"]
    # Scope `admin` only.
    writer = live.client(scopes=["connections:read", "connections:write"])
    assert (
        writer.post(f"/v1/connections/{erased_id}/erase", json={"reason": "x"}).status_code == 403
    )

    live.clock.advance(timedelta(minutes=5))
    api.post(f"/v1/connections/{erased_id}/disconnect", json={"reason": "left"}).raise_for_status()
    erased = api.post(f"/v1/connections/{erased_id}/erase", json={"reason": "GDPR ticket 77"})
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["owner_email"] == ERASED
    assert body["invited_by"] == {"name": ERASED, "email": ERASED, "role": "agency"}
    assert set(body["metadata"].values()) == {ERASED}
    again = api.post(f"/v1/connections/{erased_id}/erase", json={"reason": "again"})
    assert again.status_code == 200 and again.json()["version"] == body["version"]
    drain(live)

    # No trace in the store, on either store; nor the mails' ids, hashes of their
    # recipients.
    everything = dump(database_url)
    assert_forgotten(everything, values_of(gone))
    assert mail_ids and not any(mail_id.encode() in everything for mail_id in mail_ids)

    # Nor does this process keep its values in memory: what its outboxes follow the
    # connection with is gone, or already as of the erasure.
    for outbox in (live.services.mail.outbox, live.services.webhooks.outbox):
        state = outbox.states.kept(erased_id)
        assert state is None or state.owner_email == ERASED, outbox.name

    # Every chain verifies; the erased one says what it can no longer check.
    audit = api.get(f"/v1/connections/{erased_id}/audit").json()
    assert audit["ok"] and audit["erased"] and audit["personal_values_checked"] == 0, audit
    other = api.get(f"/v1/connections/{kept_id}/audit").json()
    assert other["ok"] and not other["erased"] and other["personal_values_checked"] >= 6, other
    verify_all = [r.ok for r in live.services.audit.verify_all()]
    assert verify_all and all(verify_all)

    # The history records the erasure (actor, reason, time) and shows values as erased.
    history = api.get(f"/v1/connections/{erased_id}/events", params={"limit": 100}).json()["data"]
    last = history[-1]
    assert last["type"] == "connection.erased" and last["data"]["reason"] == "GDPR ticket 77"
    assert last["actor"] and last["occurred_at"]
    assert history[0]["data"]["owner_email"] == ERASED
    assert any(
        e["type"] == "connection.erased"
        for e in (r.json for r in receiver.requests)
        if isinstance(e, dict)
    )
    # Reads of the past show erased values too.
    past = api.get(f"/v1/connections/{erased_id}", params={"as_of": before}).json()
    assert past["owner_email"] == ERASED and past["state"] == "active"
    first = api.get(f"/v1/connections/{erased_id}", params={"version": 1}).json()
    assert first["invited_by"]["name"] == ERASED
    # Listed, but no longer found by its address.
    listed = {c["id"]: c for c in api.get("/v1/connections").json()["data"]}
    assert listed[erased_id]["owner_email"] == ERASED
    found = api.get("/v1/connections", params={"owner_email": gone["owner_email"]}).json()
    assert found["data"] == []
    export = api.get("/v1/audit/export").text
    assert erased_id in export and gone["owner_email"] not in export

    # Its idempotent responses are gone; the other connection's stay.
    records = live.services.tables.idempotent_response
    assert records("tenant_a", f"create-{gone['owner_email']}") is None
    assert records("tenant_a", f"create-{kept['owner_email']}") is not None

    # The other connection is untouched.
    mine = api.get(f"/v1/connections/{kept_id}").json()
    assert mine["owner_email"] == kept["owner_email"]
    assert mine["invited_by"]["name"] == kept["invited_by"]["name"]
    assert mine["metadata"] == kept["metadata"]
    assert mine["last_error"] is None
    found = api.get("/v1/connections", params={"owner_email": kept["owner_email"]}).json()
    assert [c["id"] for c in found["data"]] == [kept_id]
    history = api.get(f"/v1/connections/{kept_id}/events", params={"limit": 100}).json()["data"]
    assert kept["detail"] in str(history)

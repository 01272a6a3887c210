"""Webhook endpoints over HTTP: management, bad input, secrets, redelivery and replay."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import uuid4

import pytest
from standardwebhooks import Webhook

from tests.conftest import START, new_connection

pytest_plugins = ["tests.webhooks.fixtures"]  # hooked, guarded, receiver


def hooks(live):
    return live.services.webhooks


@pytest.fixture
def api(hooked):
    with hooked.client() as client:
        yield client


def test_an_endpoint_is_created_read_listed_updated_and_deleted(api, receiver):
    created = api.post(
        "/v1/webhook_endpoints",
        json={
            "url": receiver.url,
            "event_types": ["connection.invited", "connection.activated"],
            "description": "frontend",
        },
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    assert created.headers["location"] == f"/v1/webhook_endpoints/{endpoint['id']}"
    assert endpoint["status"] == "enabled"

    read = api.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()
    assert "secret" not in read
    assert read["event_types"] == ["connection.invited", "connection.activated"]
    assert [e["id"] for e in api.get("/v1/webhook_endpoints").json()["data"]] == [endpoint["id"]]

    updated = api.patch(
        f"/v1/webhook_endpoints/{endpoint['id']}",
        json={"url": receiver.url + "/v2", "event_types": ["*"], "enabled": False},
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["url"], updated.json()["event_types"]) == (receiver.url + "/v2", ["*"])
    assert (updated.json()["status"], updated.json()["disabled_reason"]) == ("disabled", "manual")
    assert "secret" not in updated.json()

    deleted = api.delete(f"/v1/webhook_endpoints/{endpoint['id']}")
    assert deleted.json() == {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}
    missing = api.get(f"/v1/webhook_endpoints/{endpoint['id']}")
    assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {"url": "not a url"},
        {"url": "ftp://hooks.example.com/x"},
        {"url": "http://127.0.0.1:9/hooks"},
        {"url": "http://localhost/hooks"},
        {"url": "http://10.1.2.3/hooks"},
        {"url": "http://169.254.169.254/latest/meta-data"},
        {"url": "http://[::1]/hooks"},
        {"url": "http://[64:ff9b::7f00:1]/hooks"},
        {"url": "http://[2002:a9fe:a9fe::]/latest/meta-data"},
        {"url": "http://[::127.0.0.1]/hooks"},
        {"url": "http://[::ffff:10.0.0.1]/hooks"},
        {"url": "http://100.64.0.1/hooks"},
        {"url": "https://93.184.215.14/hooks", "event_types": ["connection.exploded"]},
        {"url": "https://93.184.215.14/hooks", "event_types": []},
        {"url": "https://93.184.215.14/hooks", "colour": "blue"},
    ],
    ids=[
        "not-a-url",
        "ftp",
        "loopback",
        "localhost",
        "private",
        "link-local",
        "ipv6-loopback",
        "nat64-loopback",
        "6to4-link-local",
        "ipv4-compatible-loopback",
        "ipv4-mapped-private",
        "shared-address-space",
        "unknown-type",
        "no-types",
        "unknown-field",
    ],
)
def test_bad_endpoints_are_refused_and_nothing_is_stored(guarded, body):
    with guarded.client(f"tenant_{uuid4().hex}") as api:
        response = api.post("/v1/webhook_endpoints", json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "VALIDATION_ERROR"
        assert api.get("/v1/webhook_endpoints").json()["data"] == []


def test_an_update_to_a_private_address_is_refused_and_changes_nothing(guarded):
    with guarded.client(f"tenant_{uuid4().hex}") as api:
        endpoint = api.post(
            "/v1/webhook_endpoints", json={"url": "https://93.184.215.14/hooks"}
        ).json()
        refused = api.patch(
            f"/v1/webhook_endpoints/{endpoint['id']}",
            json={"url": "http://192.168.0.10/hooks", "event_types": ["*"]},
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "VALIDATION_ERROR")
        assert api.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()["url"] == (
            "https://93.184.215.14/hooks"
        )


def test_rotate_secret_shows_the_new_secret_once(api, receiver):
    endpoint = api.post("/v1/webhook_endpoints", json={"url": receiver.url}).json()
    rotated = api.post(f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != endpoint["secret"]
    assert rotated.json()["previous_secret_expires_at"] == "2026-01-06T09:00:00Z"
    assert "secret" not in api.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()


def test_the_secret_is_encrypted_at_rest_and_never_logged(hooked, receiver, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    with hooked.client() as api:
        endpoint = api.post("/v1/webhook_endpoints", json={"url": receiver.url}).json()
        rotated = api.post(f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret").json()
        new_connection(api)
        hooks(hooked).run_once()
    stored = hooked.services.tables.query("SELECT * FROM {p}webhook_endpoints")
    row_text = repr([dict(r) for r in stored])
    printed = "".join(capfd.readouterr())
    for secret in (endpoint["secret"], rotated["secret"]):
        assert secret.removeprefix("whsec_") not in row_text
        assert secret.removeprefix("whsec_") not in caplog.text + printed
    assert hooked.services.box.decrypt(stored[0]["secret_encrypted"]) == rotated["secret"]


def test_another_tenants_endpoint_does_not_exist_for_you(hooked, receiver):
    with hooked.client("tenant_a") as a, hooked.client("tenant_b") as b:
        endpoint = a.post("/v1/webhook_endpoints", json={"url": receiver.url}).json()
        for response in (
            b.get(f"/v1/webhook_endpoints/{endpoint['id']}"),
            b.delete(f"/v1/webhook_endpoints/{endpoint['id']}"),
            b.get(f"/v1/webhook_endpoints/{endpoint['id']}/deliveries"),
        ):
            assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")
        assert b.get("/v1/webhook_endpoints").json()["data"] == []


def test_managing_webhooks_needs_the_webhooks_manage_scope(hooked, receiver):
    with hooked.client(scopes=["connections:read"]) as api:
        response = api.post("/v1/webhook_endpoints", json={"url": receiver.url})
    assert (response.status_code, response.json()["code"]) == (403, "FORBIDDEN")


def test_deliveries_list_their_attempts_and_can_be_redelivered(hooked, api, receiver):
    endpoint = api.post("/v1/webhook_endpoints", json={"url": receiver.url}).json()
    receiver.answer(503, "busy", Retry_After="30")
    new_connection(api)
    hooks(hooked).run_once()
    hooked.clock.advance(timedelta(seconds=31))
    hooks(hooked).run_once()

    listed = api.get(f"/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()
    [delivery] = listed["data"]
    assert delivery["status"] == "succeeded"
    assert delivery["event_type"] == "connection.invited"
    assert [(a["status_code"], a["response_body"]) for a in delivery["attempts"]] == [
        (503, "busy"),
        (200, "ok"),
    ]

    again = api.post(f"/v1/webhook_deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202, again.text
    assert (again.json()["origin"], again.json()["status"]) == ("redelivery", "pending")
    hooks(hooked).run_once()

    first, second = receiver.requests[-2:]
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["event_id"]
    assert first.body == second.body
    Webhook(endpoint["secret"]).verify(second.body, second.headers)
    pending = api.get(
        f"/v1/webhook_endpoints/{endpoint['id']}/deliveries", params={"status": "pending"}
    ).json()["data"]
    assert pending == []


def test_replay_sends_one_endpoints_events_from_a_time_range(hooked, api, receiver):
    early = new_connection(api)  # at START
    hooked.clock.advance(timedelta(hours=1))
    middle = new_connection(api)
    hooked.clock.advance(timedelta(hours=1))
    new_connection(api)
    hooked.clock.advance(timedelta(minutes=1))
    endpoint = api.post("/v1/webhook_endpoints", json={"url": receiver.url}).json()
    hooks(hooked).run_once()  # the events came before the endpoint: nothing to send
    assert receiver.requests == []

    replayed = api.post(
        f"/v1/webhook_endpoints/{endpoint['id']}/replay",
        json={
            "from": (START + timedelta(minutes=30)).isoformat(),
            "to": (START + timedelta(minutes=90)).isoformat(),
        },
    )
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["deliveries_created"] == 1
    hooks(hooked).run_once()

    [sent] = receiver.requests
    assert sent.json["data"]["connection"]["id"] == middle["id"] != early["id"]
    backwards = api.post(
        f"/v1/webhook_endpoints/{endpoint['id']}/replay",
        json={"from": START.isoformat(), "to": START.isoformat()},
    )
    assert (backwards.status_code, backwards.json()["code"]) == (422, "VALIDATION_ERROR")

"""The outbox against a real HTTP receiver on loopback, on each store: every event delivered
signed, with the connection as of that event, to the endpoints subscribed to its type;
nothing lost to a dispatcher's death or to events older than the outbox; pruned after the
retention; both secrets signing during a rotation.

Time moves with the service's settable clock; no test sleeps through a retry delay.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from service.container import build
from service.webhooks import LEASE, build_webhooks
from tests.conftest import make_settings, new_connection
from tests.webhooks.helpers import deliveries, endpoint, hooks

pytest_plugins = ["tests.webhooks.fixtures"]  # hooked, hooked_sqlite, guarded, receiver…


def test_each_event_is_delivered_signed_with_the_connection_as_of_that_event(hooked, receiver):
    row, secret = endpoint(hooked, receiver)
    with hooked.client() as api:
        c = new_connection(api)
        api.post(f"/v1/connections/{c['id']}/start_authorization").raise_for_status()
        history = api.get(f"/v1/connections/{c['id']}/events").json()["data"]
    assert receiver.requests == []  # nothing is sent from the request handler

    assert hooks(hooked).run_once() == 2

    # Sent concurrently, so they may arrive in either order: receivers go by `version`.
    first, second = sorted(receiver.requests, key=lambda r: r.json["data"]["connection"]["version"])
    for request in (first, second):
        Webhook(secret).verify(request.body, request.headers)
        assert request.headers["content-type"] == "application/json"
    assert [first.headers["webhook-id"], second.headers["webhook-id"]] == [e["id"] for e in history]
    assert first.json["type"] == "connection.invited"
    assert first.json["data"]["connection"]["state"] == "invited"
    assert first.json["data"]["connection"]["version"] == 1
    assert first.json["data"]["event"] == {
        "id": history[0]["id"],
        "type": "connection.invited",
        "occurred_at": history[0]["occurred_at"],
        "actor": history[0]["actor"],
    }
    assert second.json["type"] == "connection.authorization_started"
    assert second.json["data"]["connection"]["state"] == "owner_pending"
    assert second.json["data"]["connection"]["version"] == 2
    assert second.json["timestamp"] == history[1]["occurred_at"]
    assert [d.status for d, _ in deliveries(hooked, row)] == ["succeeded", "succeeded"]


def without_link(shown: dict) -> dict:
    """The API's connection less the owner's `invitation_url`: webhook bodies are stored
    in the outbox, and the link is a credential, so webhooks leave it out."""
    assert shown.pop("invitation_url").startswith("http")
    return shown


@pytest.mark.parametrize("remembered", [True, False], ids=["remembered", "cold"])
def test_the_payload_is_the_connection_as_the_api_shows_that_version(hooked, receiver, remembered):
    """Built from the state the outbox kept after the previous event, or (a worker that
    just started, or another process's) loaded from the store: the same payload."""
    endpoint(hooked, receiver)
    with hooked.client() as api:
        c = new_connection(api)
        assert hooks(hooked).run_once() == 1
        if not remembered:
            hooks(hooked).outbox.states.forget(c["id"])  # as in a worker that just started
        api.post(f"/v1/connections/{c['id']}/resend_invitation").raise_for_status()
        api.post(f"/v1/connections/{c['id']}/start_authorization").raise_for_status()
        assert hooks(hooked).run_once() == 2
        for version in (2, 3):
            [sent] = [
                r.json["data"]["connection"]
                for r in receiver.requests
                if r.json["data"]["connection"]["version"] == version
            ]
            shown = api.get(f"/v1/connections/{c['id']}", params={"version": version}).json()
            assert sent == without_link(shown)


def test_an_outbox_loads_the_state_when_another_process_fanned_out_the_events_between(
    hooked, receiver
):
    endpoint(hooked, receiver)
    other = build(
        make_settings(hooked.services.settings.database_url, WEBHOOK_ALLOW_PRIVATE="1"),
        clock=hooked.clock,
    )
    try:
        with hooked.client() as api:
            c = new_connection(api)
            assert hooks(hooked).run_once() == 1  # this outbox keeps version 1
            api.post(f"/v1/connections/{c['id']}/resend_invitation").raise_for_status()
            assert other.webhooks.run_once() == 1  # another process fans out version 2
            api.post(f"/v1/connections/{c['id']}/start_authorization").raise_for_status()
            assert hooks(hooked).run_once() == 1  # version 3: this outbox never saw 2

            [sent] = [
                r.json["data"]["connection"]
                for r in receiver.requests
                if r.json["data"]["connection"]["version"] == 3
            ]
            shown = api.get(f"/v1/connections/{c['id']}", params={"version": 3}).json()
            assert sent == without_link(shown)
    finally:
        other.close()


def test_endpoints_receive_only_the_types_they_subscribe_to(hooked, receiver):
    endpoint(hooked, receiver, event_types=["connection.authorization_started"])
    with hooked.client() as api:
        c = new_connection(api)
        api.post(f"/v1/connections/{c['id']}/start_authorization").raise_for_status()
    with hooked.client("tenant_b") as other:
        new_connection(other)  # another tenant's event never reaches tenant_a's endpoint

    hooks(hooked).run_once()

    assert [r.json["type"] for r in receiver.requests] == ["connection.authorization_started"]


def test_after_the_retention_finished_deliveries_and_their_events_are_pruned(hooked, receiver):
    row, _ = endpoint(hooked, receiver)
    with hooked.client() as api:
        new_connection(api)  # delivered at once
        hooks(hooked).run_once()
        receiver.answer(500)
        new_connection(api)  # fails, and waits for its retry
        hooks(hooked).run_once()
        by_status = {d.status: d for d, _ in deliveries(hooked, row)}
        done, waiting = by_status["succeeded"], by_status["pending"]

        hooked.clock.advance(timedelta(days=31))  # past the 30-day default
        new_connection(api)
        hooks(hooked).outbox.catch_up()
        assert hooks(hooked).prune() == 2  # the delivered one and its event

        left = {d.id: len(attempts) for d, attempts in deliveries(hooked, row)}
        assert done.id not in left and left[waiting.id] == 1 and len(left) == 2
        assert api.post(f"/v1/webhook_deliveries/{done.id}/redeliver").status_code == 404
        assert api.post(f"/v1/webhook_deliveries/{waiting.id}/redeliver").is_success
        assert hooks(hooked).prune() == 0  # nothing more is old enough, and it waits a minute


def test_a_dispatcher_that_dies_between_claim_and_send_loses_nothing(hooked, receiver):
    endpoint(hooked, receiver)
    with hooked.client() as api:
        new_connection(api)
    hooks(hooked).outbox.catch_up()

    crashed = build_webhooks(hooked.services)
    assert len(crashed.dispatcher.claim()) == 1  # leased, then the process "dies"
    crashed.close()
    restarted = build_webhooks(hooked.services)
    try:
        assert restarted.dispatcher.run_once() == 0  # the lease still holds
        hooked.clock.advance(LEASE + timedelta(seconds=1))
        assert restarted.dispatcher.run_once() == 1
        assert restarted.dispatcher.run_once() == 0
    finally:
        restarted.close()
    assert len(receiver.requests) == 1


def test_events_committed_before_the_outbox_ever_ran_are_still_delivered(hooked, receiver):
    endpoint(hooked, receiver)
    with hooked.client() as api:
        new_connection(api)  # committed while no outbox has looked at the log
        new_connection(api)

    assert hooks(hooked).outbox.catch_up() == 2
    assert hooks(hooked).outbox.catch_up() == 0
    hooks(hooked).dispatcher.run_once()
    assert len(receiver.requests) == 2


def test_during_rotation_both_secrets_sign_for_24_hours(hooked, receiver):
    row, old = endpoint(hooked, receiver)
    _, new = hooks(hooked).endpoints.rotate_secret("tenant_a", row.id)
    with hooked.client() as api:
        c = new_connection(api)
        hooks(hooked).run_once()
        hooked.clock.advance(timedelta(hours=24, seconds=1))
        api.post(f"/v1/connections/{c['id']}/resend_invitation").raise_for_status()
        hooks(hooked).run_once()

    during, after = receiver.requests
    assert len(during.headers["webhook-signature"].split()) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)

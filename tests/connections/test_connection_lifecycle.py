"""A connection's whole life over HTTP, on each store, with the sandbox Amazon."""

from __future__ import annotations

from domain.permissions import REQUIRED_SC_PERMISSIONS
from tests.conftest import consent, new_connection


def test_seller_walks_from_invitation_to_active_through_the_sandbox(api):
    c = new_connection(api)
    assert c["state"] == "invited"
    assert c["allowed_actions"] == ["resend_invitation", "start_authorization", "disconnect"]

    started = api.post(f"/v1/connections/{c['id']}/start_authorization").json()
    assert started["state"] == "owner_pending"
    assert "/apps/authorize/consent?" in started["consent_url"]

    back = consent(api, started["consent_url"])
    assert back.status_code == 200, back.text
    assert back.json()["state"] == "api_authorized"

    invited = api.post(f"/v1/connections/{c['id']}/invite_seller_central_user").json()
    assert invited["state"] == "sc_user_invited"
    assert invited["required_permissions"] == REQUIRED_SC_PERMISSIONS

    confirmed = api.post(
        f"/v1/connections/{c['id']}/confirm_seller_central_user",
        json={"permissions": REQUIRED_SC_PERMISSIONS},
    ).json()
    assert confirmed["state"] == "permissions_verified"

    active = api.post(f"/v1/connections/{c['id']}/activate").json()
    assert active["state"] == "active"
    assert active["selling_partner_id"].startswith("A")
    assert active["reauth_due_at"] is not None

    history = api.get(f"/v1/connections/{c['id']}/events").json()["data"]
    assert [e["type"] for e in history] == [
        "connection.invited",
        "connection.authorization_started",
        "connection.api_authorized",
        "connection.seller_central_user_invited",
        "connection.permissions_verified",
        "connection.activated",
    ]
    assert history[2]["actor"] == "owner"
    assert "refresh_token_encrypted" not in history[2]["data"]

    listed = api.get("/v1/connections", params={"state": "active"}).json()["data"]
    assert [x["id"] for x in listed] == [c["id"]]

"""Which selling partner may be connected where: one connection per selling partner and
tenant, and a reauthorization only by the same selling partner."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from domain.connection import Context
from tests.conftest import LiveService, consent, new_connection
from tests.connect.consents.helpers import (
    TENANT,
    authorize,
    get,
    history,
    query_of,
    start,
    unique_partner,
)


def test_selling_partner_already_connected_for_this_tenant_but_free_for_another(live, api):
    partner = unique_partner("ASAME")
    first = new_connection(api)["id"]
    assert authorize(api, first, sandbox_selling_partner_id=partner).json()["succeeded"]
    assert get(api, first)["selling_partner_id"] == partner

    second = new_connection(api)["id"]
    back = authorize(api, second, sandbox_selling_partner_id=partner)
    assert back.json()["succeeded"] is False
    assert back.json()["error"]["code"] == "SELLING_PARTNER_ALREADY_CONNECTED"
    refused = get(api, second)
    assert refused["state"] == "invited"
    assert refused["selling_partner_id"] is None
    assert refused["last_error"]["code"] == "SELLING_PARTNER_ALREADY_CONNECTED"
    last = history(api, second)[-1]
    assert last["type"] == "connection.authorization_failed"
    assert last["actor"] == "owner"
    assert last["data"]["error"]["code"] == "SELLING_PARTNER_ALREADY_CONNECTED"
    assert get(api, first)["state"] == "api_authorized"  # the first one is untouched

    with live.client("tenant_b") as other_tenant:
        elsewhere = new_connection(other_tenant)["id"]
        back = authorize(other_tenant, elsewhere, sandbox_selling_partner_id=partner)
        assert back.json()["succeeded"] is True, back.text
        assert get(other_tenant, elsewhere)["selling_partner_id"] == partner

    # Once the first connection has ended, this tenant may connect the partner again.
    assert (
        api.post(f"/v1/connections/{first}/disconnect", json={"reason": "replaced"}).status_code
        == 200
    )
    back = authorize(api, second, sandbox_selling_partner_id=partner)
    assert back.json()["succeeded"] is True, back.text
    assert get(api, second)["selling_partner_id"] == partner


def _reauth_due(live: LiveService, api: httpx.Client, partner: str) -> str:
    """A vendor connection authorized for `partner`, activated, then marked reauth_due
    through the domain (as the timer would, 335 days later)."""
    cid = new_connection(api, account_type="vendor")["id"]
    assert authorize(api, cid, sandbox_selling_partner_id=partner).json()["succeeded"]
    assert api.post(f"/v1/connections/{cid}/activate").json()["state"] == "active"
    live.clock.advance(timedelta(days=335))
    c = live.services.app.load(TENANT, cid)
    c.mark_reauth_due(Context(actor="test", at=live.clock.now()))
    live.services.connections.save(c)
    assert get(api, cid)["state"] == "reauth_due"
    return cid


def test_reauthorization_by_another_selling_partner_is_refused_and_the_same_one_reactivates(
    live, api
):
    partner = unique_partner("AORIG")
    cid = _reauth_due(live, api, partner)
    due_before = get(api, cid)["reauth_due_at"]

    started = start(api, cid, "start_reauthorization")
    assert started["state"] == "reauth_due"
    assert query_of(started["consent_url"])["state"].startswith(f"{cid}.")
    back = consent(api, started["consent_url"], sandbox_selling_partner_id=unique_partner("AOTHER"))
    assert back.json()["succeeded"] is False
    assert back.json()["error"]["code"] == "SELLING_PARTNER_MISMATCH"
    refused = get(api, cid)
    assert refused["state"] == "reauth_due"
    assert refused["selling_partner_id"] == partner
    assert refused["last_error"]["code"] == "SELLING_PARTNER_MISMATCH"
    assert refused["reauth_due_at"] == due_before
    last = history(api, cid)[-1]
    assert last["type"] == "connection.reauthorization_failed"
    assert last["actor"] == "owner"
    assert last["data"]["error"]["code"] == "SELLING_PARTNER_MISMATCH"

    again = start(api, cid, "start_reauthorization")
    back = consent(api, again["consent_url"], sandbox_selling_partner_id=partner)
    assert back.json()["succeeded"] is True, back.text
    renewed = get(api, cid)
    assert renewed["state"] == "active"
    assert renewed["last_error"] is None
    assert renewed["selling_partner_id"] == partner
    assert renewed["reauth_due_at"] != due_before
    # A new 365-day clock from now; reauth_due 30 days before its end.
    expected = live.clock.now() + timedelta(days=365 - 30)
    assert datetime.fromisoformat(renewed["reauth_due_at"]) == expected
    assert history(api, cid)[-1]["type"] == "connection.reauthorized"

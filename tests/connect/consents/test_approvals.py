"""Consents that succeed: the consent URL, the owner approving the SP-API then the Ads API,
and where the callback sends the owner's browser afterwards."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from adapters.amazon import AmazonError
from adapters.amazon.settings import SANDBOX_APPLICATION_ID
from tests.conftest import consent, new_connection, start_service
from tests.connect.consents.helpers import (
    TENANT,
    amazon_redirect,
    authorize,
    catalogue,
    get,
    history,
    query_of,
    start,
)

# ------------------------------------------------------------------------- happy paths


def test_consent_url_is_seller_centrals_consent_page_with_application_id_and_signed_state(
    live, api
):
    c = new_connection(api)
    started = start(api, c["id"])
    url = urlsplit(started["consent_url"])
    assert f"{url.scheme}://{url.netloc}" == live.url  # the sandbox Amazon is the service
    # The Seller Central of the connection's first marketplace (new_connection: the US).
    assert url.path == "/sandbox/amazon/sellercentral.amazon.com/apps/authorize/consent"
    query = query_of(started["consent_url"])
    assert query["application_id"] == SANDBOX_APPLICATION_ID
    assert query["state"].startswith(f"{c['id']}.")
    assert len(query["state"]) > len(c["id"]) + 20  # a signed payload follows the id
    assert query["redirect_uri"] == f"{live.url}/v1/oauth/amazon/callback"
    assert "version" not in query  # a published app: no version=beta
    window_end = live.clock.now() + timedelta(minutes=15)
    assert datetime.fromisoformat(started["expires_at"]) == window_end


def test_draft_app_consent_url_carries_version_beta(sqlite_url):
    live = start_service(sqlite_url, SPAPI_DRAFT_APP="1")
    try:
        assert live.services.settings.spapi_draft_app is True
        with live.client() as api:
            c = new_connection(api)
            query = query_of(start(api, c["id"])["consent_url"])
            assert query["application_id"] == SANDBOX_APPLICATION_ID
            assert query["state"].startswith(f"{c['id']}.")
            assert query.get("version") == "beta"
    finally:
        live.stop()


def test_owner_approves_sp_api_then_ads_and_the_connection_activates(live, api):
    c = new_connection(api, account_type="vendor", requires_advertising=True)
    assert c["advertising"] == "pending"
    assert c["requirements"] == {"seller_central_user": False, "advertising": True}

    back = authorize(api, c["id"])
    assert back.status_code == 200, back.text
    assert back.json() == {
        "connection_id": c["id"],
        "state": "api_authorized",
        "succeeded": True,
        "error": None,
    }
    authorized = get(api, c["id"])
    assert authorized["selling_partner_id"].startswith("A")
    assert authorized["last_error"] is None
    assert authorized["advertising"] == "pending"
    # The Advertising track is incomplete: activation is refused until it is connected.
    refused = api.post(f"/v1/connections/{c['id']}/activate")
    assert refused.status_code == 409 and refused.json()["code"] == "INVALID_TRANSITION"

    ads = start(api, c["id"], "start_advertising_authorization")
    ads_query = query_of(ads["consent_url"])
    assert urlsplit(ads["consent_url"]).path == "/sandbox/amazon/ads/na/ap/oa"
    assert ads_query["state"].startswith(f"{c['id']}.")
    assert ads_query["response_type"] == "code"
    assert ads_query["redirect_uri"] == f"{live.url}/v1/oauth/amazon-ads/callback"

    ads_back = consent(api, ads["consent_url"])
    assert ads_back.status_code == 200, ads_back.text
    assert ads_back.json()["succeeded"] is True
    connected = get(api, c["id"])
    assert connected["advertising"] == "connected"
    assert connected["state"] == "api_authorized"
    assert connected["last_error"] is None

    active = api.post(f"/v1/connections/{c['id']}/activate")
    assert active.status_code == 200, active.text
    assert active.json()["state"] == "active"

    events = history(api, c["id"])
    assert [e["type"] for e in events] == [
        "connection.invited",
        "connection.authorization_started",
        "connection.api_authorized",
        "connection.advertising_authorization_started",
        "connection.advertising_connected",
        "connection.activated",
    ]
    assert events[2]["actor"] == "owner" and events[4]["actor"] == "owner"


def test_access_revoked_outcome_consents_normally_and_only_the_later_refresh_is_refused(live, api):
    c = new_connection(api, account_type="vendor")
    back = authorize(api, c["id"], "ACCESS_REVOKED")
    assert back.status_code == 200, back.text
    assert back.json()["succeeded"] is True
    authorized = get(api, c["id"])
    assert authorized["state"] == "api_authorized"
    assert authorized["last_error"] is None
    assert history(api, c["id"])[-1]["type"] == "connection.api_authorized"

    # What surfaces later: LWA refuses the stored refresh token as revoked.
    stored = live.services.app.load(TENANT, c["id"])
    refresh_token = live.services.box.decrypt(stored.refresh_token_encrypted)
    with pytest.raises(AmazonError) as refused:
        live.services.amazon.refresh(refresh_token)
    assert refused.value.code == "ACCESS_REVOKED"


# ------------------------------------------------------------------------ return_url


def test_callback_redirects_to_return_url_with_connection_status_and_error_code(live, api):
    live.services.tables.allow_origin("tenant_a", "https://integrator.example", "2026-01-05")
    return_url = "https://integrator.example/amazon/done?tab=connections"
    ok = new_connection(api, return_url=return_url)["id"]
    location = amazon_redirect(start(api, ok)["consent_url"])
    back = httpx.get(location, timeout=30)  # a browser: no Accept: application/json
    assert back.status_code == 303, back.text
    target = back.headers["location"]
    assert target.startswith("https://integrator.example/amazon/done?")
    params = query_of(target)
    assert params["tab"] == "connections"
    assert params["connection_id"] == ok
    assert params["status"] == "succeeded"
    assert "error_code" not in params
    assert get(api, ok)["state"] == "api_authorized"

    failed = new_connection(api, return_url=return_url)["id"]
    location = amazon_redirect(start(api, failed)["consent_url"], "MARKETPLACE_NOT_PARTICIPATING")
    back = httpx.get(location, headers={"Accept": "application/json"}, timeout=30)
    assert back.status_code == 303, back.text
    params = query_of(back.headers["location"])
    assert params["connection_id"] == failed
    assert params["status"] == "failed"
    assert params["error_code"] == "MARKETPLACE_NOT_PARTICIPATING"
    assert get(api, failed)["last_error"]["code"] == "MARKETPLACE_NOT_PARTICIPATING"


def test_without_return_url_a_browser_gets_a_page_with_the_remediation(live, api):
    cid = new_connection(api)["id"]
    location = amazon_redirect(start(api, cid)["consent_url"], "ACCOUNT_DEACTIVATED")
    page = httpx.get(location, timeout=30, follow_redirects=True)  # to the owner's page
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/connect/" in str(page.url)
    item = catalogue(api)["ACCOUNT_DEACTIVATED"]
    text = html.unescape(page.text)
    assert item["title"] in text
    for step in item["remediation"]:
        assert step in text
    assert get(api, cid)["state"] == "invited"

"""Consents that fail: every failure outcome of the sandbox ends the attempt with the
catalogue's code and remediation, Ads failures leave SP-API access in place, and Amazon's
unavailability is told as such."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest

from service.sandbox.outcomes import SP_OUTCOMES, STOPPED_ON_AMAZON
from service.workers.deadlines import Deadlines
from tests.conftest import consent, new_connection
from tests.connect.consents.helpers import (
    ADS_FAILURES,
    SP_FAILURES,
    api_authorized,
    authorize,
    catalogue,
    get,
    history,
    start,
    with_query,
)


def test_the_failure_outcomes_cover_every_sp_api_outcome_of_the_sandbox():
    # Lower case outcomes (approve, throttled_once, ...) end well.
    assert set(SP_FAILURES) == {o for o in SP_OUTCOMES if o.isupper()} - {
        "ACCESS_REVOKED",
        "ACCOUNT_IN_STAGING",
        *STOPPED_ON_AMAZON,
    }
    assert len(SP_FAILURES) >= 9  # the rest end on Amazon's page or connect with a warning


@pytest.mark.parametrize("outcome", SP_FAILURES)
def test_sp_api_failure_returns_connection_to_invited_with_catalogue_code_and_remediation(
    api, outcome
):
    c = new_connection(api)
    back = authorize(api, c["id"], outcome)
    assert back.status_code == 200, back.text
    answer = back.json()
    assert answer["succeeded"] is False
    assert answer["state"] == "invited"
    assert answer["error"]["code"] == outcome

    after = get(api, c["id"])
    assert after["state"] == "invited"
    assert after["last_error"]["code"] == outcome
    assert after["selling_partner_id"] is None
    assert "start_authorization" in after["allowed_actions"]

    last = history(api, c["id"])[-1]
    assert last["type"] == "connection.authorization_failed"
    assert last["actor"] == "owner"
    assert last["data"]["error"]["code"] == outcome

    guide = api.get(f"/v1/connections/{c['id']}/guide").json()
    assert guide["last_error"]["code"] == outcome
    assert guide["last_error"]["remediation"] == catalogue(api)[outcome]["remediation"]
    assert guide["support"]["last_attempt_at"] is not None


@pytest.mark.parametrize("outcome", sorted(STOPPED_ON_AMAZON))
def test_a_problem_amazon_shows_on_its_own_page_ends_in_an_expired_window_naming_it(
    live, api, outcome
):
    c = new_connection(api)
    started = start(api, c["id"])
    page = httpx.get(with_query(started["consent_url"], sandbox_outcome=outcome), timeout=30)
    assert page.status_code == 403 and "location" not in page.headers
    assert get(api, c["id"])["state"] == "owner_pending"  # nothing came back

    Deadlines(live.services).run_once(live.clock.now() + timedelta(minutes=16))
    guide = api.get(f"/v1/connections/{c['id']}/guide").json()
    assert guide["state"] == "invited"
    assert guide["last_error"]["code"] == "AUTHORIZATION_EXPIRED"
    named = catalogue(api)[outcome]
    assert named["shown_on"] == "amazon"
    assert f"{named['title']} ({outcome})" in guide["last_error"]["remediation"][-1]


def test_inactive_listings_connect_with_a_warning(api):
    c = new_connection(api, region="eu", marketplace_ids=["A1PA6795UKMFR9"])
    back = authorize(api, c["id"], "ACCOUNT_IN_STAGING")
    assert back.status_code == 200, back.text
    after = get(api, c["id"])
    assert after["state"] == "api_authorized"
    assert after["last_error"] is None
    assert after["warning"]["code"] == "ACCOUNT_IN_STAGING"
    assert "A1PA6795UKMFR9" in after["warning"]["detail"]


def test_a_vendor_consents_on_vendor_central_of_its_first_marketplace(api):
    c = new_connection(api, account_type="vendor", region="eu", marketplace_ids=["AMEN7PMS3EDWL"])
    started = start(api, c["id"])
    assert "/sandbox/amazon/vendorcentral.amazon.com.be/apps/" in started["consent_url"]
    back = consent(api, started["consent_url"])
    assert back.json()["state"] == "api_authorized", back.text


def test_every_catalogue_entry_says_what_it_is_recognised_from(api):
    for code, item in catalogue(api).items():
        assert item["recognised_from"].strip(), code
        assert item["shown_on"] in ("amazon", "service"), code


@pytest.mark.parametrize("outcome", ADS_FAILURES)
def test_ads_failure_marks_advertising_failed_with_last_error_and_the_owner_can_retry(api, outcome):
    cid = api_authorized(api, account_type="vendor", requires_advertising=True)
    ads = start(api, cid, "start_advertising_authorization")
    back = consent(api, ads["consent_url"], outcome)
    assert back.status_code == 200, back.text
    assert back.json()["succeeded"] is False
    assert back.json()["error"]["code"] == outcome

    after = get(api, cid)
    assert after["advertising"] == "failed"
    assert after["state"] == "api_authorized"  # the SP-API authorization is untouched
    assert after["last_error"]["code"] == outcome
    assert "activate" not in after["allowed_actions"]
    last = history(api, cid)[-1]
    assert last["type"] == "connection.advertising_failed"
    assert last["actor"] == "owner"
    assert last["data"]["error"]["code"] == outcome
    guide = api.get(f"/v1/connections/{cid}/guide").json()
    assert guide["last_error"]["remediation"] == catalogue(api)[outcome]["remediation"]

    again = start(api, cid, "start_advertising_authorization")
    assert consent(api, again["consent_url"]).json()["succeeded"] is True
    fixed = get(api, cid)
    assert fixed["advertising"] == "connected"
    assert fixed["last_error"] is None


def test_amazon_unavailable_comes_from_lwa_503s_after_retries_not_internal_error(live, api, caplog):
    caplog.set_level(logging.WARNING, logger="adapters.amazon.retries")
    c = new_connection(api)
    back = authorize(api, c["id"], "AMAZON_UNAVAILABLE")
    assert back.json()["error"]["code"] == "AMAZON_UNAVAILABLE"
    after = get(api, c["id"])
    assert after["state"] == "invited"
    assert after["last_error"]["code"] == "AMAZON_UNAVAILABLE"
    assert after["last_error"]["code"] != "INTERNAL_ERROR"
    attempts = live.services.amazon.settings.max_retries + 1
    assert "HTTP 503" in after["last_error"]["detail"]
    assert f"after {attempts} attempts" in after["last_error"]["detail"]
    retries = [
        r
        for r in caplog.records
        if r.name == "adapters.amazon.retries"
        and "LWA token (authorization_code)" in r.getMessage()
        and "HTTP 503" in r.getMessage()
    ]
    assert len(retries) == attempts - 1
    assert catalogue(api)["AMAZON_UNAVAILABLE"]["retryable"] is True

    # The Ads consent meets the same outage the same way.
    cid = api_authorized(api, account_type="vendor", requires_advertising=True)
    ads = start(api, cid, "start_advertising_authorization")
    assert consent(api, ads["consent_url"], "AMAZON_UNAVAILABLE").json()["succeeded"] is False
    ads_after = get(api, cid)
    assert ads_after["advertising"] == "failed"
    assert ads_after["last_error"]["code"] == "AMAZON_UNAVAILABLE"

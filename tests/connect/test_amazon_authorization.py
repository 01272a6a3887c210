"""The Amazon consents over HTTP, on each store, against the sandbox Amazon (SPEC §2, §3, §7).

The owner is played by plain HTTP calls: open the consent URL with `sandbox_outcome=` (the
sandbox redirects at once, as Seller Central or Login with Amazon would), then follow the
redirect to the service's callback. The real `AmazonClient` exchanges the code and runs the
account checks against the sandbox, so each outcome reaches the service the way Amazon's
answer would.
"""

from __future__ import annotations

import html
import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import psycopg
import pytest

from adapters.amazon import AmazonError
from adapters.amazon.settings import SANDBOX_APPLICATION_ID
from domain.connection import Context
from service.sandbox.outcomes import APPROVE, SANDBOX_OUTCOMES, SP_OUTCOMES, STOPPED_ON_AMAZON
from service.workers.deadlines import Deadlines
from tests.conftest import PG_URL, LiveService, consent, new_connection, start_service

TENANT = "tenant_a"  # the tenant of the `api` fixture's key

# Every outcome the sandbox offers on the SP-API consent that ends the attempt in failure:
# all of SANDBOX_OUTCOMES but approving, the Ads-only ones, and ACCESS_REVOKED (whose consent
# succeeds; Amazon refuses only the later refreshes, see its own test below).
ADS_ONLY = tuple(o for o in SANDBOX_OUTCOMES if o.startswith("ADVERTISING_"))
SP_FAILURES = tuple(
    o
    for o in SANDBOX_OUTCOMES
    if o.isupper()
    and o not in ("ACCESS_REVOKED", "ACCOUNT_IN_STAGING", *ADS_ONLY, *STOPPED_ON_AMAZON)
)
ADS_FAILURES = ("ADVERTISING_NOT_ENABLED", "ADVERTISING_ACCOUNT_MISMATCH")


# --------------------------------------------------------------------------- helpers


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str) -> str:
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(query).items()}
    params.update(changes)
    return urlunsplit((scheme, netloc, path, urlencode(params), fragment))


def amazon_redirect(consent_url: str, outcome: str = APPROVE, **extra: str) -> str:
    """The owner picks `outcome` on the sandbox consent page; returns where Amazon sends
    the browser back to (the service's callback, with code or error and the state)."""
    page = httpx.get(with_query(consent_url, sandbox_outcome=outcome, **extra), timeout=30)
    assert page.status_code in (302, 303), page.text
    return page.headers["location"]


def callback(location: str) -> httpx.Response:
    return httpx.get(location, headers={"Accept": "application/json"}, timeout=30)


def start(api: httpx.Client, cid: str, action: str = "start_authorization") -> dict[str, Any]:
    response = api.post(f"/v1/connections/{cid}/{action}")
    assert response.status_code == 200, response.text
    return response.json()


def get(api: httpx.Client, cid: str) -> dict[str, Any]:
    response = api.get(f"/v1/connections/{cid}")
    assert response.status_code == 200, response.text
    return response.json()


def history(api: httpx.Client, cid: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/connections/{cid}/events", params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def authorize(api: httpx.Client, cid: str, outcome: str = APPROVE, **extra: str) -> httpx.Response:
    started = start(api, cid)
    return consent(api, started["consent_url"], outcome, **extra)


def api_authorized(api: httpx.Client, **fields: Any) -> str:
    cid = new_connection(api, **fields)["id"]
    back = authorize(api, cid)
    assert back.status_code == 200, back.text
    assert back.json()["state"] == "api_authorized", back.text
    return cid


def catalogue(api: httpx.Client) -> dict[str, dict[str, Any]]:
    response = api.get("/v1/errors")
    assert response.status_code == 200, response.text
    return {e["code"]: e for e in response.json()["data"]}


def assert_problem(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] and body["status"] == response.status_code
    return body


# ------------------------------------------------ one server per store for this module


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveService]:
    """Overrides conftest's `live` for this module: one real server per store, shared by
    the module's tests, so the many outcome cases stay fast. Each test works on connections
    (and selling partner ids) of its own; tests that move the clock only ever move it
    forward, and every test reads the time from `live.clock`."""
    if request.param == "sqlite":
        url, schema = f"sqlite:///{tmp_path_factory.mktemp('authz')}/connections.db", None
    else:
        request.getfixturevalue("postgres_url")  # skips (or fails under CI) without PG
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}"
    service = start_service(url)
    yield service
    service.stop()
    if schema:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def api(live: LiveService) -> Iterator[httpx.Client]:
    with live.client(TENANT) as client:
        yield client


def unique_partner(prefix: str) -> str:
    """A selling partner id no other test of the shared store uses."""
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"


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


# --------------------------------------------------------------------------- failures


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


# ------------------------------------------------------------------ selling partner rules


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


# ---------------------------------------------------------------------- the state value


def _event_counts(
    live: LiveService, clients: list[httpx.Client], ids: list[list[str]]
) -> tuple[Any, ...]:
    """Everything a refused callback must leave unchanged: the store's last notification,
    each tenant's event feed, and each connection's history and version."""
    per_connection = tuple(
        (len(history(client, cid)), get(client, cid)["version"])
        for client, group in zip(clients, ids, strict=True)
        for cid in group
    )
    feeds = tuple(feed_length(client) for client in clients)
    return live.services.app.recorder.max_notification_id(), feeds, per_connection


def feed_length(client: httpx.Client) -> int:
    """How many events the tenant's audit feed (`GET /v1/events`) holds."""
    count, after = 0, 0
    while True:
        page = client.get("/v1/events", params={"after": after, "limit": 1000})
        assert page.status_code == 200, page.text
        body = page.json()
        count += len(body["data"])
        if not body["has_more"]:
            return count
        after = body["next_after"]


@pytest.fixture
def pending_pair(live: LiveService, api: httpx.Client) -> Iterator[dict[str, Any]]:
    """Two connections with open consent windows (and one of another tenant), and the
    Amazon redirect for the first one, not yet followed."""
    with live.client("tenant_b") as other:
        mine = new_connection(api)["id"]
        sibling = new_connection(api)["id"]
        foreign = new_connection(other)["id"]
        consent_url = start(api, mine)["consent_url"]
        start(api, sibling)
        start(other, foreign)
        location = amazon_redirect(consent_url)
        yield {
            "mine": mine,
            "sibling": sibling,
            "foreign": foreign,
            "location": location,
            "clients": [api, other],
            "ids": [[mine, sibling], [foreign]],
        }


def _forge(location: str, state: str) -> str:
    return with_query(location, state=state)


def test_tampered_state_is_refused_and_records_nothing(live, api, pending_pair):
    location = pending_pair["location"]
    state = query_of(location)["state"]
    before = _event_counts(live, pending_pair["clients"], pending_pair["ids"])

    head, _, mac = state.rpartition(".")
    middle = len(mac) // 2
    flipped = mac[:middle] + ("A" if mac[middle] != "A" else "B") + mac[middle + 1 :]
    assert_problem(callback(_forge(location, f"{head}.{flipped}")))
    payload_tampered = state.replace(".", ".x", 1)  # the signed body changed too
    assert_problem(callback(_forge(location, payload_tampered)))
    assert_problem(callback(_forge(location, "")))

    assert _event_counts(live, pending_pair["clients"], pending_pair["ids"]) == before
    assert get(api, pending_pair["mine"])["state"] == "owner_pending"
    # The genuine redirect still works afterwards: the refusals changed nothing.
    assert callback(location).json()["state"] == "api_authorized"


def test_foreign_state_is_refused_and_records_nothing(live, api, pending_pair):
    location = pending_pair["location"]
    state = query_of(location)["state"]
    _, _, signed = state.partition(".")
    before = _event_counts(live, pending_pair["clients"], pending_pair["ids"])

    for other in (pending_pair["sibling"], pending_pair["foreign"]):
        assert_problem(callback(_forge(location, f"{other}.{signed}")))

    assert _event_counts(live, pending_pair["clients"], pending_pair["ids"]) == before
    assert get(api, pending_pair["sibling"])["state"] == "owner_pending"
    assert get(api, pending_pair["mine"])["state"] == "owner_pending"


def test_replayed_callback_is_refused_and_records_nothing(live, api, pending_pair):
    location = pending_pair["location"]
    first = callback(location)
    assert first.status_code == 200 and first.json()["state"] == "api_authorized"
    before = _event_counts(live, pending_pair["clients"], pending_pair["ids"])

    assert_problem(callback(location))

    assert _event_counts(live, pending_pair["clients"], pending_pair["ids"]) == before
    after = get(api, pending_pair["mine"])
    assert after["state"] == "api_authorized"
    assert after["last_error"] is None


def test_replayed_state_of_a_replaced_attempt_is_refused_and_records_nothing(
    live, api, pending_pair
):
    """Starting again replaces the open attempt: the older redirect matches nothing."""
    start(api, pending_pair["mine"])
    before = _event_counts(live, pending_pair["clients"], pending_pair["ids"])
    assert_problem(callback(pending_pair["location"]))
    assert _event_counts(live, pending_pair["clients"], pending_pair["ids"]) == before
    assert get(api, pending_pair["mine"])["state"] == "owner_pending"


def test_an_expired_state_records_nothing_and_the_windows_deadline_returns_to_invited(
    live, api, pending_pair
):
    """SECURITY.md: an expired state changes nothing (it used to record the failure)."""
    live.clock.advance(timedelta(minutes=16))
    before = _event_counts(live, pending_pair["clients"], pending_pair["ids"])
    assert assert_problem(callback(pending_pair["location"]))["code"] == "AUTHORIZATION_EXPIRED"
    assert _event_counts(live, pending_pair["clients"], pending_pair["ids"]) == before
    assert get(api, pending_pair["mine"])["state"] == "owner_pending"

    Deadlines(live.services).run_once(live.clock.now())
    after = get(api, pending_pair["mine"])
    assert after["state"] == "invited"
    assert after["last_error"]["code"] == "AUTHORIZATION_EXPIRED"
    assert after["selling_partner_id"] is None
    last = history(api, pending_pair["mine"])[-1]
    assert last["type"] == "connection.authorization_failed"
    assert last["actor"] != "owner"


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

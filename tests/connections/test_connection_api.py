"""The connections API of SPEC §3-§4 as an API user meets it, over real HTTP, on each store:
create and read, lists and pages, the actions each state accepts and refuses, the guide."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest

from tests.api.helpers import assert_problem, history
from tests.conftest import START, consent, new_connection

CONNECTION_FIELDS = {
    "id",
    "state",
    "version",
    "account_type",
    "region",
    "marketplace_ids",
    "selling_partner_id",
    "owner_email",
    "invited_by",
    "requirements",
    "advertising",
    "allowed_actions",
    "last_error",
    "reauth_due_at",
    "created_at",
    "updated_at",
}
TZ_SUFFIX = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def act(api: httpx.Client, connection: dict, action: str, **kwargs) -> httpx.Response:
    return api.post(f"/v1/connections/{connection['id']}/{action}", **kwargs)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


# ------------------------------------------------------------------ create / read


def test_create_answers_201_with_location_and_etag_and_the_whole_connection(live, api):
    live.services.tables.allow_origin("tenant_a", "https://app.example.com", "2026-01-05")
    body = {
        "owner_email": "owner@example.com",
        "region": "eu",
        "marketplace_ids": ["A1PA6795UKMFR9", "A13V1IB3VIYZZH"],
        "invited_by": {"name": "Ada", "email": "ada@agency.example", "role": "agency"},
        "return_url": "https://app.example.com/after-amazon",
        "metadata": {"crm_id": "42"},
    }
    created = api.post("/v1/connections", json=body)

    assert created.status_code == 201, created.text
    c = created.json()
    assert created.headers["location"] == f"/v1/connections/{c['id']}"
    assert created.headers["etag"] == '"1"'
    assert CONNECTION_FIELDS <= c.keys()
    assert c["state"] == "invited"
    assert c["version"] == 1
    assert c["account_type"] == "seller"
    assert c["region"] == "eu"
    assert c["marketplace_ids"] == ["A1PA6795UKMFR9", "A13V1IB3VIYZZH"]
    assert c["owner_email"] == "owner@example.com"
    assert c["invited_by"] == body["invited_by"]
    assert c["selling_partner_id"] is None
    assert c["last_error"] is None
    assert c["reauth_due_at"] is None
    assert c["requirements"] == {"seller_central_user": True, "advertising": False}
    assert c["advertising"] == "not_required"
    assert c["metadata"] == {"crm_id": "42"}
    assert parse_time(c["created_at"]) == START
    assert TZ_SUFFIX.search(c["created_at"]) and TZ_SUFFIX.search(c["updated_at"])

    fetched = api.get(created.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == c
    assert fetched.headers["etag"] == '"1"'


def test_vendor_connections_need_no_seller_central_user_by_default(api):
    vendor = new_connection(api, account_type="vendor")
    assert vendor["requirements"] == {"seller_central_user": False, "advertising": False}
    with_ads = new_connection(api, requires_advertising=True)
    assert with_ads["requirements"] == {"seller_central_user": True, "advertising": True}
    assert with_ads["advertising"] == "pending"


def test_etag_carries_the_current_version_on_read_and_on_every_action(api):
    c = new_connection(api)
    started = act(api, c, "start_authorization")
    assert started.status_code == 200
    assert started.json()["version"] == 2
    assert started.headers["etag"] == '"2"'

    again = act(api, c, "start_authorization")
    assert again.headers["etag"] == '"3"'

    read = api.get(f"/v1/connections/{c['id']}")
    assert read.headers["etag"] == f'"{read.json()["version"]}"' == '"3"'


# ------------------------------------------------------------------ list


def test_list_filters_by_state_region_selling_partner_and_owner_email(live, api):
    na_alice = new_connection(api, owner_email="alice@example.com")
    eu_bob = new_connection(
        api, owner_email="bob@example.com", region="eu", marketplace_ids=["A1F83G8C2ARO7P"]
    )
    fe_alice = new_connection(
        api, owner_email="alice@example.com", region="fe", marketplace_ids=["A1VC38T7YXB528"]
    )
    gone = new_connection(api, owner_email="carol@example.com")
    assert act(api, gone, "disconnect", json={"reason": "test"}).status_code == 200
    authorized = new_connection(api, owner_email="dave@example.com")
    started = act(api, authorized, "start_authorization").json()
    back = consent(api, started["consent_url"], sandbox_selling_partner_id="A2SELLERFILTER")
    assert back.status_code == 200, back.text
    with live.client("tenant_b") as other:
        new_connection(other, owner_email="alice@example.com")  # never listed for tenant_a

    def ids(**params) -> set[str]:
        response = api.get("/v1/connections", params=params)
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["data"]}

    assert ids(state="invited") == {na_alice["id"], eu_bob["id"], fe_alice["id"]}
    assert ids(state="disconnected") == {gone["id"]}
    assert ids(state="api_authorized") == {authorized["id"]}
    assert ids(state="active") == set()
    assert ids(region="eu") == {eu_bob["id"]}
    assert ids(region="fe") == {fe_alice["id"]}
    assert ids(region="na") == {na_alice["id"], gone["id"], authorized["id"]}
    assert ids(owner_email="alice@example.com") == {na_alice["id"], fe_alice["id"]}
    assert ids(owner_email="nobody@example.com") == set()
    assert ids(selling_partner_id="A2SELLERFILTER") == {authorized["id"]}
    assert ids(selling_partner_id="A2SOMEONEELSE") == set()
    assert ids(owner_email="alice@example.com", region="fe") == {fe_alice["id"]}
    assert ids(state="invited", region="na") == {na_alice["id"]}

    listed = api.get("/v1/connections", params={"state": "api_authorized"}).json()["data"]
    assert listed[0]["selling_partner_id"] == "A2SELLERFILTER"


def test_cursor_pagination_walks_newest_first_without_duplicates_or_gaps(live, api):
    created = []
    for i in range(7):
        if i not in (3, 4):  # 2, 3 and 4 share one creation instant: the cursor must cope
            live.clock.advance(timedelta(minutes=1))
        created.append(new_connection(api, owner_email=f"owner{i}@example.com"))

    pages, cursor = [], None
    while True:
        params = {"limit": 3, **({"starting_after": cursor} if cursor else {})}
        page = api.get("/v1/connections", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["data"], "a page after a cursor with has_more must not be empty"
        assert len(body["data"]) <= 3
        pages.append(body)
        if not body["has_more"]:
            break
        cursor = body["data"][-1]["id"]
        assert len(pages) < 10, "pagination does not terminate"

    assert [len(p["data"]) for p in pages] == [3, 3, 1]
    assert [p["has_more"] for p in pages] == [True, True, False]
    seen = [c["id"] for p in pages for c in p["data"]]
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == {c["id"] for c in created}
    stamps = [parse_time(c["created_at"]) for p in pages for c in p["data"]]
    assert stamps == sorted(stamps, reverse=True)
    # Distinct creation instants come strictly newest first.
    assert seen[0] == created[6]["id"] and seen[1] == created[5]["id"]
    assert seen[-2:] == [created[1]["id"], created[0]["id"]]

    everything = api.get("/v1/connections", params={"limit": 100}).json()
    assert [c["id"] for c in everything["data"]] == seen
    assert everything["has_more"] is False

    filtered = api.get("/v1/connections", params={"limit": 1, "owner_email": "owner5@example.com"})
    assert [c["id"] for c in filtered.json()["data"]] == [created[5]["id"]]
    assert filtered.json()["has_more"] is False


def test_every_connection_shows_the_actions_it_accepts_now(api):
    seller = new_connection(api)
    vendor = new_connection(api, account_type="vendor")
    gone = new_connection(api)
    assert seller["allowed_actions"] == ["resend_invitation", "start_authorization", "disconnect"]

    pending = act(api, seller, "start_authorization").json()
    assert pending["allowed_actions"] == ["start_authorization", "disconnect"]
    assert consent(api, pending["consent_url"]).status_code == 200
    authorized = api.get(f"/v1/connections/{seller['id']}").json()
    assert authorized["state"] == "api_authorized"
    assert authorized["allowed_actions"] == ["invite_seller_central_user", "disconnect"]

    v = act(api, vendor, "start_authorization").json()
    assert consent(api, v["consent_url"]).status_code == 200
    vendor_actions = api.get(f"/v1/connections/{vendor['id']}").json()["allowed_actions"]
    assert "activate" in vendor_actions and vendor_actions[-1] == "disconnect"

    ended = act(api, gone, "disconnect").json()
    assert ended["allowed_actions"] == []

    listed = api.get("/v1/connections").json()["data"]
    assert len(listed) == 3
    for c in listed:
        assert isinstance(c["allowed_actions"], list)
        assert (
            c["allowed_actions"] == api.get(f"/v1/connections/{c['id']}").json()["allowed_actions"]
        )


# ------------------------------------------------------------------ refused actions


def test_invalid_transition_is_a_409_problem_listing_the_allowed_actions(api):
    c = new_connection(api)
    refused = act(api, c, "activate")
    problem = assert_problem(refused, 409, "INVALID_TRANSITION")
    assert problem["allowed_actions"] == ["resend_invitation", "start_authorization", "disconnect"]
    assert "activate" in problem["detail"] and "invited" in problem["detail"]
    assert problem["type"].endswith("INVALID_TRANSITION")
    assert problem["instance"] == f"/v1/connections/{c['id']}/activate"

    assert act(api, c, "disconnect").status_code == 200
    again = assert_problem(act(api, c, "disconnect"), 409, "INVALID_TRANSITION")
    assert again["allowed_actions"] == []
    assert len(history(api, c["id"])) == 2


@pytest.mark.parametrize("started", [False, True], ids=["invited", "owner_pending"])
def test_seller_central_user_before_api_authorization_is_refused_with_the_reason(api, started):
    c = new_connection(api)
    if started:
        assert act(api, c, "start_authorization").status_code == 200
    version = api.get(f"/v1/connections/{c['id']}").json()["version"]

    refused = act(api, c, "invite_seller_central_user")

    problem = assert_problem(refused, 409, "API_AUTHORIZATION_REQUIRED")
    detail = problem["detail"].lower()
    assert "api authorization" in detail and "complete" in detail
    assert "seller central" in detail
    assert "start_authorization" in problem["allowed_actions"]
    catalogue = {e["code"]: e for e in api.get("/v1/errors").json()["data"]}
    item = catalogue["API_AUTHORIZATION_REQUIRED"]
    assert item["source"] == "ChannelAdvisor"
    assert "API Authorization Status must be complete" in item["source_message"]
    assert problem["detail"] == item["message"]
    assert len(history(api, c["id"])) == version


# ------------------------------------------------------------------ guide


def test_guide_says_who_acts_next_and_gives_support_details(live, api):
    c = new_connection(api)
    guide = api.get(f"/v1/connections/{c['id']}/guide")
    assert guide.status_code == 200
    g = guide.json()
    assert g["who_acts"] == "owner"
    assert isinstance(g["next_steps"], list) and g["next_steps"]
    assert all(isinstance(s, str) and s.strip() for s in g["next_steps"])
    assert g["last_error"] is None
    assert g["support"]["connection_id"] == c["id"]
    assert g["support"]["selling_partner_id"] is None

    live.clock.advance(timedelta(minutes=7))
    started = act(api, c, "start_authorization").json()
    g = api.get(f"/v1/connections/{c['id']}/guide").json()
    assert g["who_acts"] == "owner"
    attempt = g["support"]["last_attempt_at"]
    assert TZ_SUFFIX.search(attempt), attempt
    assert parse_time(attempt) == START + timedelta(minutes=7)

    failed = consent(api, started["consent_url"], "MARKETPLACE_NOT_PARTICIPATING")
    assert failed.status_code == 200, failed.text
    assert failed.json()["state"] == "invited"

    g = api.get(f"/v1/connections/{c['id']}/guide").json()
    catalogue = {e["code"]: e for e in api.get("/v1/errors").json()["data"]}
    expected = catalogue["MARKETPLACE_NOT_PARTICIPATING"]
    assert g["state"] == "invited"
    assert g["last_error"]["code"] == "MARKETPLACE_NOT_PARTICIPATING"
    assert g["last_error"]["remediation"] == expected["remediation"]
    assert g["last_error"]["message"] == expected["message"]
    assert g["who_acts"] == expected["who_acts"] == "owner"
    assert g["next_steps"]
    assert TZ_SUFFIX.search(g["support"]["last_attempt_at"])

    retry = act(api, c, "start_authorization").json()
    assert (
        consent(api, retry["consent_url"], sandbox_selling_partner_id="A3SUPPORTSELLER").status_code
        == 200
    )
    g = api.get(f"/v1/connections/{c['id']}/guide").json()
    assert g["state"] == "api_authorized"
    assert g["last_error"] is None
    assert g["who_acts"] == "integrator"
    assert g["support"]["selling_partner_id"] == "A3SUPPORTSELLER"
    assert any("invite_seller_central_user" in s for s in g["next_steps"])

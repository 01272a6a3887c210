"""The console's pages over real HTTP (SPEC §13): what each role sees and may do, the list's
search, filters and funnel, a connection's page (state, why it failed, the support block,
one timeline), actions recorded as `console:<email>`, another tenant's connection as absent
as a missing one, the operator's view, people, and no console route in the OpenAPI schema."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.conftest import LiveService, start_service
from tests.console.staff import TENANT, browser, csrf_of, session_csrf
from tests.console.staff import sign_in as signed_in
from tests.console.story import SELLER, Story, deliver, hooks_receiver, make_story

SUPPORT, VIEWER, AUDITOR, ADMIN = (
    "sam@acme.example",
    "val@acme.example",
    "ada@acme.example",
    "root@acme.example",
)


_SIGNED_IN: dict[str, object] = {}


def sign_in(live: LiveService, email: str, role: str | None = None):
    """Each person signs in once per module (the throttle allows five links per address
    in 15 minutes, and the module's clock stands still)."""
    key = f"{live.url}/{email}"
    if key not in _SIGNED_IN:
        _SIGNED_IN[key] = signed_in(live, email, role)
    return _SIGNED_IN[key]


@pytest.fixture(scope="module")
def served(module_database_url: str) -> Iterator[tuple[LiveService, Story]]:
    service = start_service(module_database_url, WEBHOOK_ALLOW_PRIVATE="1")
    service.services.tenants.set(TENANT, display_name="Acme Repricer")
    with hooks_receiver() as hooks:
        story = make_story(service, TENANT, hooks)
        yield service, story
    service.stop()


def events(live: LiveService, cid: str) -> list[dict]:
    with live.client(TENANT) as api:
        return api.get(f"/v1/connections/{cid}/events").json()["data"]


def test_a_viewer_reads_but_sees_no_action_and_its_posts_are_refused(served):
    live, story = served
    http = sign_in(live, VIEWER, "viewer")
    cid = story.declined["id"]
    page = http.get(f"/console/connections/{cid}")
    assert page.status_code == 200 and "MARKETPLACE_NOT_PARTICIPATING" in page.text
    for label in ("Resend the invitation", "Disconnect", "Redeliver", "Verify", "Export"):
        assert label not in page.text
    token = csrf_of(page.text)  # the sign-out form's: a valid token does not make a role
    for action, data in (
        ("resend-invitation", {}),
        ("disconnect", {"reason": "no"}),
        ("invitation-link", {}),
        ("verify", {}),
    ):
        refused = http.post(f"/console/connections/{cid}/{action}", data={"csrf": token, **data})
        assert refused.status_code == 403 and "Your role does not allow this" in refused.text
    assert http.get(f"/console/connections/{cid}/export").status_code == 403
    assert http.get("/console/operator").status_code == 403
    assert http.get("/console/people").status_code == 403
    assert len(events(live, cid)) == len(events(live, cid))
    assert [e["type"] for e in events(live, cid)][-1] == "connection.authorization_failed"


def test_search_by_seller_id_owner_email_and_id_and_the_filters(served):
    live, story = served
    http = sign_in(live, "search@acme.example", "viewer")
    wrong, declined = story.wrong_permissions, story.declined
    by_seller = http.get("/console", params={"q": SELLER.lower()}).text
    assert wrong["id"] in by_seller and declined["id"] not in by_seller
    by_owner = http.get("/console", params={"q": declined["owner_email"]}).text
    assert declined["id"] in by_owner and wrong["id"] not in by_owner
    by_id = http.get("/console", params={"q": declined["id"]}).text
    assert declined["id"] in by_id and wrong["id"] not in by_id
    by_error = http.get("/console", params={"error": "MARKETPLACE_NOT_PARTICIPATING"}).text
    assert declined["id"] in by_error and wrong["id"] not in by_error
    by_state = http.get("/console", params={"state": "sc_user_invited"}).text
    assert wrong["id"] in by_state and declined["id"] not in by_state
    by_region = http.get("/console", params={"region": "eu"}).text
    assert declined["id"] in by_region and wrong["id"] not in by_region
    attention = http.get("/console", params={"attention": "1"}).text
    assert declined["id"] in attention and "Needs attention: last error" in attention
    funnel = http.get("/console").text
    assert "invited" in funnel and "of 2 (100%) reached" in funnel


def test_the_list_pages_newest_first_with_a_cursor(served):
    live, _ = served
    with live.client("tenant_paged") as api:
        ids = [
            live.clock.advance(timedelta(seconds=1))
            and api.post(
                "/v1/connections",
                json={
                    "owner_email": f"o{i}@x.example",
                    "region": "na",
                    "marketplace_ids": ["ATVPDKIKX0DER"],
                },
            ).json()["id"]
            for i in range(27)
        ]
    live.services.console.people.add("tenant_paged", "pager@acme.example", "viewer")
    http = sign_in(live, "pager@acme.example")
    first = http.get("/console").text
    assert ids[-1] in first and ids[1] not in first and 'rel="next"' in first
    after = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = http.get(after.replace("&amp;", "&")).text
    assert ids[1] in second and ids[0] in second and ids[-1] not in second


def test_the_connection_page_shows_the_state_why_it_failed_and_the_support_block(served):
    live, story = served
    http = sign_in(live, "reader@acme.example", "viewer")
    page = http.get(f"/console/connections/{story.wrong_permissions['id']}").text
    assert 'aria-current="step">sc_user_invited' in page
    assert "SELLER_CENTRAL_PERMISSIONS_INCORRECT" in page
    assert f"Merchant ID: {SELLER}" in page and "UTC" in page
    assert "Seller Central permissions that differ" in page
    assert "Webhook connection." in page and "HTTP 500" in page  # the failing deliveries
    assert "connection.seller_central_permissions_rejected" in page or "permissions" in page


def test_support_resends_and_the_history_names_the_person(served):
    live, story = served
    http = sign_in(live, SUPPORT, "support")
    cid = story.declined["id"]
    done = http.post(
        f"/console/connections/{cid}/resend-invitation", data={"csrf": session_csrf(http)}
    )
    assert done.status_code == 303
    last = events(live, cid)[-1]
    assert last["type"] == "connection.invitation_resent" and last["actor"] == f"console:{SUPPORT}"
    page = http.get(done.headers["location"]).text
    assert "The invitation was sent again." in page and f"by console:{SUPPORT}" in page


def test_support_shows_the_invitation_link_and_that_is_recorded(served):
    live, story = served
    http = sign_in(live, SUPPORT, "support")
    cid = story.declined["id"]
    page = http.post(
        f"/console/connections/{cid}/invitation-link", data={"csrf": session_csrf(http)}
    )
    assert page.status_code == 200
    assert live.services.links.url(cid) in page.text
    assert "Invitation link copied" in http.get(f"/console/connections/{cid}").text


def test_support_redelivers_a_failed_webhook_and_sees_the_new_attempt(served):
    live, story = served
    http = sign_in(live, SUPPORT, "support")
    cid = story.wrong_permissions["id"]
    page = http.get(f"/console/connections/{cid}").text
    delivery = page.split('name="delivery" value="')[1].split('"')[0]
    hooks_status = live.services.webhooks  # the receiver recovers, then the redelivery
    answer = http.post(
        f"/console/connections/{cid}/redeliver", data={"csrf": csrf_of(page), "delivery": delivery}
    )
    assert answer.status_code == 303
    assert hooks_status is not None
    after = http.get(answer.headers["location"]).text
    assert "a redelivery" in after and "Webhook redelivered" in after


def test_a_delivery_of_another_connection_is_not_redelivered_from_this_page(served):
    live, story = served
    http = sign_in(live, SUPPORT, "support")
    other = http.get(f"/console/connections/{story.wrong_permissions['id']}").text
    delivery = other.split('name="delivery" value="')[1].split('"')[0]
    refused = http.post(
        f"/console/connections/{story.declined['id']}/redeliver",
        data={"csrf": csrf_of(other), "delivery": delivery},
    )
    assert refused.status_code == 404


def test_disconnecting_needs_a_reason_which_the_history_keeps(served):
    live, _ = served
    with live.client(TENANT) as api:
        cid = api.post(
            "/v1/connections",
            json={
                "owner_email": "gone@x.example",
                "region": "na",
                "marketplace_ids": ["ATVPDKIKX0DER"],
            },
        ).json()["id"]
    http = sign_in(live, SUPPORT, "support")
    token = session_csrf(http)
    empty = http.post(f"/console/connections/{cid}/disconnect", data={"csrf": token, "reason": " "})
    assert empty.status_code == 422 and "Give a reason" in empty.text
    done = http.post(
        f"/console/connections/{cid}/disconnect", data={"csrf": token, "reason": "seller asked"}
    )
    assert done.status_code == 303
    last = events(live, cid)[-1]
    assert last["type"] == "connection.disconnected" and last["actor"] == f"console:{SUPPORT}"
    assert "seller asked" in json.dumps(last["data"])


def test_an_auditor_sees_the_past_verifies_and_exports(served):
    live, story = served
    http = sign_in(live, AUDITOR, "auditor")
    cid = story.wrong_permissions["id"]
    page = http.get(f"/console/connections/{cid}").text
    assert "Resend the invitation" not in page and "Redeliver" not in page
    then = http.get(f"/console/connections/{cid}", params={"version": "1"}).text
    assert 'aria-current="step">invited' in then and "version 1 of" in then
    at = story.wrong_permissions["created_at"]
    asof = http.get(f"/console/connections/{cid}", params={"as_of": at}).text
    assert 'aria-current="step">api_authorized' in asof
    for version in ("0", "99999999999999999999999"):
        beyond = http.get(f"/console/connections/{cid}", params={"version": version})
        assert beyond.status_code == 200 and "has no version" in beyond.text
    before = http.get(f"/console/connections/{cid}", params={"as_of": "2000-01-01T00:00:00Z"})
    assert "did not exist" in before.text
    verified = http.post(f"/console/connections/{cid}/verify", data={"csrf": csrf_of(page)})
    assert "The history is intact." in verified.text
    jsonl = http.get(f"/console/connections/{cid}/export", params={"format": "jsonl"})
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert jsonl.headers["content-type"].startswith("application/jsonl")
    assert [e["version"] for e in lines] == list(range(1, len(lines) + 1))
    assert "Atzr" not in jsonl.text  # no refresh token leaves in an export
    table = list(
        csv.DictReader(io.StringIO(http.get(f"/console/connections/{cid}/export?format=csv").text))
    )
    assert [r["id"] for r in table] == [e["id"] for e in lines]
    recorded = http.get(f"/console/connections/{cid}").text
    assert "History verified" in recorded and "History exported" in recorded


def test_another_tenants_connection_is_a_404_like_a_missing_one(served):
    live, story = served
    live.services.console.people.add("tenant_b", "other@b.example", "admin")
    http = sign_in(live, "other@b.example")
    cid = story.declined["id"]
    foreign = http.get(f"/console/connections/{cid}")
    missing = http.get("/console/connections/00000000-0000-4000-8000-000000000000")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.text.replace(cid, "").count("No such connection") == missing.text.count(
        "No such connection"
    )
    token = csrf_of(foreign.text)
    for action in ("resend-invitation", "verify", "invitation-link"):
        assert (
            http.post(f"/console/connections/{cid}/{action}", data={"csrf": token}).status_code
            == 404
        )
    assert http.get(f"/console/connections/{cid}/export").status_code == 404
    assert "No connection matches." in http.get("/console", params={"q": cid}).text
    assert http.get("/console/connections/not-a-connection").status_code == 404


def test_webhook_endpoints_show_recent_deliveries_and_failure_rates(served):
    live, _ = served
    http = sign_in(live, "hooks@acme.example", "viewer")
    page = http.get("/console/webhooks").text
    assert "/hooks" in page and re.search(r"100% of \d+ attempts failed", page)
    assert "HTTP 500" in page and "connection.permissions_incorrect" in page


def test_the_operator_sees_followers_the_apps_credentials_and_the_outbox(served):
    live, _ = served
    deliver(live)
    http = sign_in(live, ADMIN, "admin")
    page = http.get("/console/operator").text
    assert "connections_view" in page or "Followers of the event log" in page
    assert (
        "LWA client secret expires" in page and "secret" not in page.split("LWA client ID")[1][:40]
    )
    assert "console sign in" in page  # the outbox, this tenant's


def test_an_admin_adds_and_removes_people_and_removal_ends_their_sessions(served):
    live, _ = served
    admin = sign_in(live, ADMIN, "admin")
    token = session_csrf(admin, "/console/people")
    added = admin.post(
        "/console/people", data={"csrf": token, "email": "New@Acme.example", "role": "support"}
    )
    assert added.status_code == 303
    assert "new@acme.example" in admin.get("/console/people").text
    newcomer = sign_in(live, "new@acme.example")
    assert newcomer.get("/console").status_code == 200
    removed = admin.post(
        "/console/people/remove", data={"csrf": token, "email": "new@acme.example"}
    )
    assert removed.status_code == 303
    assert newcomer.get("/console").status_code == 303
    bad = admin.post("/console/people", data={"csrf": token, "email": "x", "role": "king"})
    assert bad.status_code == 422


def test_no_console_route_is_in_the_openapi_schema(served):
    live, _ = served
    schema = browser(live).get("/openapi.json").json()
    assert not [p for p in schema["paths"] if p.startswith("/console")]

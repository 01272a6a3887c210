"""The owner's proof before any authorization lands (SPEC §12): Amazon's Login URI
continues only in a browser holding the owner's session for a connection that holds the
seller; anyone else gets one neutral page, the same bytes whatever matched."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from service.workers.deadlines import Deadlines
from tests.conftest import START, LiveService, consent, new_connection
from tests.connect.test_login_uri import BROWSER, _get, _reauthorize_link, owner_browser

VICTIM = "AVICTIM0000001"


def _active(api: httpx.Client, fields: dict[str, Any], spid: str) -> dict[str, Any]:
    c = new_connection(api, requires_seller_central_user=False, **fields)
    started = api.post(f"/v1/connections/{c['id']}/start_authorization").json()
    consent(api, started["consent_url"], sandbox_selling_partner_id=spid)
    api.post(f"/v1/connections/{c['id']}/activate").raise_for_status()
    return api.get(f"/v1/connections/{c['id']}").json()


def _answers(live: LiveService, login: str) -> list[tuple[int, str, str, bytes]]:
    """The Login URI's page and its button's answer, as a stranger's browser gets them."""
    page = _get(login)
    form = parse_qs(urlsplit(login).query)
    sent = httpx.post(
        f"{live.url}/v1/oauth/amazon/login",
        data={k: v[0] for k, v in form.items()},
        headers=BROWSER,
        timeout=30,
    )
    return [
        (r.status_code, r.headers["content-type"], r.headers["cache-control"], r.content)
        for r in (page, sent)
    ]


def test_a_tenant_that_imported_another_tenants_seller_gets_nothing_at_the_login_uri(live):
    with live.client("tenant_a") as a, live.client("tenant_b") as b:
        theirs = _active(a, {}, VICTIM)
        # Tenant B imports a valid token of its own seller, claiming the victim's id, with
        # an authorization nearly a year old: the worker makes it due for renewal.
        imported = b.post(
            "/v1/connections/import",
            json={
                "owner_email": "mallory@tenant-b.example",
                "region": "na",
                "marketplace_ids": ["ATVPDKIKX0DER"],
                "selling_partner_id": VICTIM,
                "refresh_token": "Atzr|sandbox-AMALLORY000001-own",
                "authorized_at": (START - timedelta(days=340)).isoformat(),
                "requires_seller_central_user": False,
            },
        )
        assert imported.status_code == 201, imported.text
        mine = imported.json()
        b.post(f"/v1/connections/{mine['id']}/activate").raise_for_status()
        Deadlines(live.services).run_once(START + timedelta(minutes=1))
        assert b.get(f"/v1/connections/{mine['id']}").json()["state"] == "reauth_due"
        before = b.get(f"/v1/connections/{mine['id']}").json()["version"]

        # The victim presses "Re-authorize" in Manage Your Apps, in a browser that never
        # opened tenant B's invitation link: nothing continues to Amazon for B.
        login = _reauthorize_link(live, VICTIM)
        page = _get(login)
        assert page.status_code == 200 and "location" not in page.headers
        assert "Confirm it is you" in page.text
        for named in (mine["id"], theirs["id"], "tenant_b", "reauth_due", "mallory"):
            assert named not in page.text
        after = b.get(f"/v1/connections/{mine['id']}").json()
        assert after["version"] == before and after["state"] == "reauth_due"
        # The victim's own session (tenant A's invitation link) continues A's connection.
        with owner_browser(theirs) as browser:
            to_confirm = browser.get(login)
        state = parse_qs(urlsplit(to_confirm.headers["location"]).query)["state"][0]
        assert state.startswith(theirs["id"] + ".")


def test_the_neutral_pages_are_the_same_bytes_for_zero_one_and_two_matches(live_sqlite):
    live = live_sqlite
    login = _reauthorize_link(live, VICTIM)
    with live.client("tenant_a") as a, live.client("tenant_b") as b:
        live.services.tenants.set("tenant_a", display_name="Acme Repricer")
        live.services.tenants.set("tenant_b", display_name="Books Sync")
        none = _answers(live, login)
        first = _active(a, {}, VICTIM)
        one = _answers(live, login)
        second = _active(b, {}, VICTIM)
        two = _answers(live, login)
    assert none == one == two
    (status, kind, cache, page), (sent_status, _, _, sent) = two
    assert status == sent_status == 200 and kind.startswith("text/html") and cache == "no-store"
    assert page != sent and b"Check your e-mail" in sent
    for text in (page, sent):
        for named in ("Acme", "Books", first["id"], second["id"], "active", "@"):
            assert named.encode() not in text


def test_a_browser_with_the_owners_session_continues_at_once_and_renews_an_active_year(live):
    with live.client() as api:
        c = _active(api, {}, VICTIM)
        later = START + timedelta(days=100)  # active, nothing due: the owner renews early
        live.clock.set(later)
        with owner_browser(c) as browser:
            cookie = next(h for h in browser.cookies.jar)
            assert cookie.name == "owner_session" and c["id"] not in str(cookie.value)
            assert cookie.has_nonstandard_attr("HttpOnly") and cookie.expires is not None
            to_confirm = browser.get(_reauthorize_link(live, VICTIM))
        assert to_confirm.status_code == 302
        target = to_confirm.headers["location"]
        assert target.startswith(f"{live.url}/sandbox/amazon/na/apps/authorize/confirm?")
        assert parse_qs(urlsplit(target).query)["state"]
        amazon = _get(f"{target}&sandbox_outcome=approve")
        assert _get(amazon.headers["location"]).status_code == 303
        after = api.get(f"/v1/connections/{c['id']}").json()
        assert after["state"] == "active"
        assert after["lapses_at"] > c["lapses_at"] and after["lapses_at"].startswith("2027")
        events = api.get(f"/v1/connections/{c['id']}/events").json()["data"]
        assert events[-1]["type"] == "connection.reauthorized"
        replay = _get(amazon.headers["location"])  # the state's version has moved on
        assert replay.status_code == 422


def test_the_session_cookie_is_signed_and_bound_to_its_connection(live_sqlite):
    live = live_sqlite
    with live.client() as api:
        c = _active(api, {}, VICTIM)
        other = new_connection(api)
    login = _reauthorize_link(live, VICTIM)
    with owner_browser(other) as browser:  # the owner of another connection
        assert "Confirm it is you" in browser.get(login).text
        value = browser.cookies["owner_session"]
    body, _, mac = value.partition(".")
    forged = httpx.get(login, headers=BROWSER, cookies={"owner_session": body + ".AAAA" + mac})
    assert forged.status_code == 200 and "Confirm it is you" in forged.text
    with owner_browser(c) as browser:
        assert browser.get(login).status_code == 302


def test_a_tenant_that_edited_the_callbacks_seller_gets_nothing_at_the_login_uri(live):
    """The same claim without an import: tenant B's owner approves as their own seller and
    edits `selling_partner_id` on Amazon's redirect to the victim's. The label lands (the
    SP-API names no token's seller), but the victim's re-authorization does not."""
    with live.client("tenant_a") as a, live.client("tenant_b") as b:
        theirs = _active(a, {}, VICTIM)
        mine = new_connection(b, requires_seller_central_user=False)
        started = b.post(f"/v1/connections/{mine['id']}/start_authorization").json()
        page = httpx.get(
            f"{started['consent_url']}&sandbox_outcome=approve"
            "&sandbox_selling_partner_id=AMALLORY000001",
            timeout=30,
        )
        edited = page.headers["location"].replace("AMALLORY000001", VICTIM)
        assert httpx.get(edited, headers={"Accept": "application/json"}, timeout=30).is_success
        b.post(f"/v1/connections/{mine['id']}/activate").raise_for_status()
        mine = b.get(f"/v1/connections/{mine['id']}").json()
        assert (mine["selling_partner_id"], mine["state"]) == (VICTIM, "active")

        login = _reauthorize_link(live, VICTIM)
        page = _get(login)
        assert page.status_code == 200 and "location" not in page.headers
        for named in (mine["id"], theirs["id"], "tenant_b"):
            assert named not in page.text
        assert b.get(f"/v1/connections/{mine['id']}").json()["version"] == mine["version"]

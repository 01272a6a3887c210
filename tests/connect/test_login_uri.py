"""Amazon's Login URI end to end through the sandbox (SPEC §7, §12): Manage Your Apps'
"Re-authorize" -> the service's Login URI (in a browser holding the owner's session, given
by the invitation link) -> Amazon's confirm step -> the callback; and forged, foreign or
replayed selling partners, which record nothing."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from service.workers.deadlines import Deadlines
from tests.conftest import START, LiveService, consent, new_connection

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _get(url: str) -> httpx.Response:
    return httpx.get(url, headers=BROWSER, timeout=30)


@contextmanager
def owner_browser(c: dict) -> Iterator[httpx.Client]:
    """A browser that opened the connection's invitation link: it holds the owner's session."""
    with httpx.Client(headers=BROWSER, timeout=30) as browser:
        assert browser.get(c["invitation_url"]).status_code == 200
        yield browser


def _due_for_reauthorization(live: LiveService, api: httpx.Client, spid: str = "") -> dict:
    c = new_connection(api, requires_seller_central_user=False)
    started = api.post(f"/v1/connections/{c['id']}/start_authorization").json()
    extra = {"sandbox_selling_partner_id": spid} if spid else {}
    consent(api, started["consent_url"], **extra)
    api.post(f"/v1/connections/{c['id']}/activate").raise_for_status()
    return api.get(f"/v1/connections/{c['id']}").json()


def _year_later(live: LiveService) -> None:
    later = START + timedelta(days=340)
    live.clock.set(later)
    Deadlines(live.services).run_once(later)


def _reauthorize_link(live: LiveService, signed_in_as: str) -> str:
    manage = _get(f"{live.url}/sandbox/amazon/na/apps/manage?selling_partner_id={signed_in_as}")
    assert manage.status_code == 200
    return html.unescape(re.search(r'href="([^"]+)">Re-authorize', manage.text).group(1))


def _version(api: httpx.Client, cid: str) -> int:
    return api.get(f"/v1/connections/{cid}").json()["version"]


def test_re_authorize_from_manage_your_apps_renews_the_year(live, api):
    c = _due_for_reauthorization(live, api)
    _year_later(live)
    assert api.get(f"/v1/connections/{c['id']}").json()["state"] == "reauth_due"
    before = _version(api, c["id"])

    login = _reauthorize_link(live, c["selling_partner_id"])
    assert login.startswith(f"{live.url}/v1/oauth/amazon/login?")
    with owner_browser(c) as browser:
        to_confirm = browser.get(login)
    assert to_confirm.status_code == 302
    target = to_confirm.headers["location"]
    assert target.startswith(f"{live.url}/sandbox/amazon/na/apps/authorize/confirm?")
    params = parse_qs(urlsplit(target).query)
    assert params["redirect_uri"] == [f"{live.url}/v1/oauth/amazon/callback"]
    assert params["amazon_state"] and params["state"]
    assert _version(api, c["id"]) == before  # the Login URI itself records nothing

    amazon = _get(f"{target}&sandbox_outcome=approve")
    back = _get(amazon.headers["location"])
    assert back.status_code == 303 and back.headers["location"].startswith("/connect/")
    after = api.get(f"/v1/connections/{c['id']}").json()
    assert after["state"] == "active" and after["version"] == before + 2
    assert after["reauth_due_at"] > c["reauth_due_at"]
    types = [e["type"] for e in api.get(f"/v1/connections/{c['id']}/events").json()["data"]]
    assert types[-2:] == ["connection.reauthorization_started", "connection.reauthorized"]

    replay = _get(amazon.headers["location"])  # the same state again: already used
    assert replay.status_code == 422 and "text/html" in replay.headers["content-type"]
    assert _version(api, c["id"]) == before + 2


def test_a_forged_or_foreign_selling_partner_records_nothing(live_sqlite):
    live = live_sqlite
    with live.client() as api:
        c = _due_for_reauthorization(live, api)
        _year_later(live)
        before = _version(api, c["id"])

        # Someone signed in on Amazon as another seller claims the victim's selling partner:
        # without the owner's session, the Login URI does not even continue.
        theirs = _reauthorize_link(live, "AFORGED0000001")
        forged = theirs.replace(
            "selling_partner_id=AFORGED0000001", "selling_partner_id=" + c["selling_partner_id"]
        )
        stranger = _get(forged)
        assert stranger.status_code == 200 and "Confirm it is you" in stranger.text
        # In a browser that holds the owner's session (signed in on Amazon as another
        # seller), Amazon's own redirect still has to name the connection's seller.
        with owner_browser(c) as browser:
            to_confirm = browser.get(forged)
            assert to_confirm.status_code == 302
            amazon = _get(f"{to_confirm.headers['location']}&sandbox_outcome=approve")
            back = _get(amazon.headers["location"])
            assert back.status_code == 409
            assert "not the one this connection belongs to" in back.text
            # ... or declines on Amazon: still nothing on the victim's connection.
            to_confirm = browser.get(forged)
            declined = _get(f"{to_confirm.headers['location']}&sandbox_outcome=NOT_PRIMARY_OWNER")
            assert _get(declined.headers["location"]).status_code >= 400

        # A selling partner no connection holds: the same neutral page, nothing anywhere.
        foreign = _get(_reauthorize_link(live, "AFOREIGN000002"))
        assert foreign.status_code == 200
        assert "Confirm it is you" in foreign.text
        assert _version(api, c["id"]) == before
        assert api.get(f"/v1/connections/{c['id']}").json()["state"] == "reauth_due"


def test_the_login_uri_continues_only_to_amazons_own_hosts(live_sqlite):
    live = live_sqlite
    with live.client() as api:
        c = _due_for_reauthorization(live, api)
    for callback in (
        "https://evil.example/apps/authorize/confirm",
        "http://sellercentral.amazon.com/apps/authorize/confirm",
        "https://sellercentral.amazon.com.evil.example/x",
        "https://user@sellercentral.amazon.com/x",
    ):
        answer = httpx.get(
            f"{live.url}/v1/oauth/amazon/login",
            params={
                "amazon_callback_uri": callback,
                "amazon_state": "x",
                "selling_partner_id": c["selling_partner_id"],
            },
            headers=BROWSER,
        )
        assert answer.status_code == 422, callback
    amazon = httpx.get(
        f"{live.url}/v1/oauth/amazon/login",
        params={
            "amazon_callback_uri": "https://sellercentral.amazon.co.uk/apps/authorize/confirm/amzn1.sp.x",
            "amazon_state": "x",
            "selling_partner_id": c["selling_partner_id"],
        },
        headers=BROWSER,
    )
    # Amazon's own host: the neutral page (this browser holds no owner's session).
    assert amazon.status_code == 200 and "Confirm it is you" in amazon.text


def test_several_connections_of_one_seller_continue_only_for_their_owners_session(live_sqlite):
    live = live_sqlite
    spid = "ASHARED0000001"
    with live.client("tenant_a") as a, live.client("tenant_b") as b:
        live.services.tenants.set("tenant_a", display_name="Acme Repricer")
        live.services.tenants.set("tenant_b", display_name="Books Sync")
        first = _due_for_reauthorization(live, a, spid=spid)
        second = _due_for_reauthorization(live, b, spid=spid)
        assert first["selling_partner_id"] == second["selling_partner_id"] == spid
        _year_later(live)
        login = _reauthorize_link(live, spid)
        neutral = _get(login)  # no chooser: it would name the tenants holding the seller
        assert neutral.status_code == 200 and "Confirm it is you" in neutral.text
        for named in ("Acme Repricer", "Books Sync", first["id"], second["id"], "reauth_due"):
            assert named not in neutral.text
        with owner_browser(second) as browser:
            to_confirm = browser.get(login)
        amazon = _get(f"{to_confirm.headers['location']}&sandbox_outcome=approve")
        assert _get(amazon.headers["location"]).status_code == 303
        assert b.get(f"/v1/connections/{second['id']}").json()["state"] == "active"
        assert a.get(f"/v1/connections/{first['id']}").json()["state"] == "reauth_due"

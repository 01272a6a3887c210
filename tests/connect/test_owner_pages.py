"""The owner's pages over plain HTTP (SPEC §10): the invitation link's life, the pages each
state shows, and HTML (never JSON) for a person's browser. The browser journey itself is
in tests/browser."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from service.cli.main import main
from service.workers.deadlines import Deadlines
from tests.conftest import START, LiveService, new_connection

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _page(url: str) -> httpx.Response:
    return httpx.get(url, headers=BROWSER, timeout=30)


def _follow_consent(live: LiveService, consent_url: str, outcome: str = "approve") -> str:
    """The owner on the sandbox Amazon, then back through the callback, as a browser."""
    amazon = httpx.get(f"{consent_url}&sandbox_outcome={outcome}", headers=BROWSER)
    assert amazon.status_code == 302
    back = httpx.get(amazon.headers["location"], headers=BROWSER)
    assert back.status_code == 303, back.text
    return live.url + back.headers["location"]


def test_every_connection_has_an_invitation_url_that_dies_with_disconnect(live, api) -> None:
    created = new_connection(api)
    url = created["invitation_url"]
    assert url.startswith(f"{live.url}/connect/") and len(urlsplit(url).path) > 50
    assert api.get(f"/v1/connections/{created['id']}").json()["invitation_url"] == url
    assert api.get("/v1/connections").json()["data"][0]["invitation_url"] == url
    resent = api.post(f"/v1/connections/{created['id']}/resend_invitation").json()
    assert resent["invitation_url"] == url
    assert _page(url).status_code == 200

    api.post(f"/v1/connections/{created['id']}/disconnect", json={"reason": "not needed"})
    gone = _page(url)
    assert gone.status_code == 410
    assert "This link no longer works" in gone.text and "ask" in gone.text
    assert api.get(f"/v1/connections/{created['id']}").json()["invitation_url"] is None


def test_a_forged_or_altered_link_opens_nothing(live_sqlite: LiveService) -> None:
    with live_sqlite.client() as api:
        url = new_connection(api)["invitation_url"]
    token = url.rsplit("/", 1)[1]
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (altered, "x" * 43, "not-a-token"):
        page = _page(f"{live_sqlite.url}/connect/{bad}")
        assert page.status_code == 404
        assert "text/html" in page.headers["content-type"]
        assert "This link does not work" in page.text
        posted = httpx.post(f"{live_sqlite.url}/connect/{bad}/authorize", headers=BROWSER)
        assert posted.status_code == 404


def test_pages_carry_a_strict_policy_and_load_only_their_own_stylesheet(live_sqlite) -> None:
    with live_sqlite.client() as api:
        url = new_connection(api)["invitation_url"]
    page = _page(url)
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<html lang="en">' in page.text and 'name="viewport"' in page.text
    assert "http" not in page.text.split("<body", 1)[0].replace('href="/connect/static', "")
    css = httpx.get(f"{live_sqlite.url}/connect/static/connect.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_idempotent_replays_show_the_link_but_the_store_never_keeps_it(live_sqlite) -> None:
    with live_sqlite.client() as api:
        body = {
            "owner_email": "o@example.com",
            "region": "na",
            "marketplace_ids": ["ATVPDKIKX0DER"],
        }
        first = api.post("/v1/connections", json=body, headers={"Idempotency-Key": "k1"})
        again = api.post("/v1/connections", json=body, headers={"Idempotency-Key": "k1"})
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["invitation_url"] == first.json()["invitation_url"]
    token = first.json()["invitation_url"].rsplit("/", 1)[1]
    stored = live_sqlite.services.tables.query("SELECT body FROM idempotency_keys")
    assert stored and all(token not in row["body"] for row in stored)


def test_a_browser_gets_pages_not_json_problems(live_sqlite: LiveService) -> None:
    callback = _page(f"{live_sqlite.url}/v1/oauth/amazon/callback?state=forged.state&code=x")
    assert callback.status_code == 422
    assert callback.headers["content-type"].startswith("text/html")
    assert "<h1>" in callback.text and '"code"' not in callback.text
    unknown = _page(f"{live_sqlite.url}/v1/connections")
    assert unknown.status_code == 401 and unknown.headers["content-type"].startswith("text/html")
    # An API client still gets its problem.
    api_style = httpx.get(f"{live_sqlite.url}/v1/connections", headers={"Accept": "*/*"})
    assert api_style.headers["content-type"] == "application/problem+json"


def test_the_callback_brings_the_owner_back_to_the_outcome_page(live_sqlite) -> None:
    with live_sqlite.client() as api:
        created = new_connection(api, requires_seller_central_user=False)
        started = api.post(f"/v1/connections/{created['id']}/start_authorization").json()
        back = _follow_consent(live_sqlite, started["consent_url"], "ACCOUNT_UNDER_REVIEW")
        assert back == created["invitation_url"]
        page = _page(back).text
        assert "Amazon account under review" in page and "Try again" in page
        assert created["id"] in page and "UTC" in page

        again = httpx.post(f"{back}/authorize", headers=BROWSER)
        assert again.status_code == 303 and "/apps/authorize/consent" in again.headers["location"]
        done = _page(_follow_consent(live_sqlite, again.headers["location"])).text
        assert "Amazon access confirmed" in done
        assert api.get(f"/v1/connections/{created['id']}").json()["state"] == "api_authorized"


def test_seller_central_step_refuses_an_unticked_checklist(live_sqlite) -> None:
    with live_sqlite.client() as api:
        created = new_connection(api)
        started = api.post(f"/v1/connections/{created['id']}/start_authorization").json()
        back = _follow_consent(live_sqlite, started["consent_url"])
        page = _page(back).text
        assert live_sqlite.services.settings.seller_central_user_email in page
        assert "View &amp; Edit" in page and "Agreements/Amendments" in page
        partial = httpx.post(f"{back}/seller-central", data={"done": "inventory"})
        assert partial.status_code == 422 and "13 left" in partial.text
        assert api.get(f"/v1/connections/{created['id']}").json()["state"] == "api_authorized"


def test_advertising_step_and_yearly_reauthorization_pages(live_sqlite) -> None:
    with live_sqlite.client() as api:
        created = new_connection(api, requires_seller_central_user=False, requires_advertising=True)
        started = api.post(f"/v1/connections/{created['id']}/start_authorization").json()
        back = _follow_consent(live_sqlite, started["consent_url"])
        assert "Connect Amazon Ads" in _page(back).text
        ads = httpx.post(f"{back}/advertising", headers=BROWSER)
        assert ads.status_code == 303
        amazon = httpx.get(f"{ads.headers['location']}&sandbox_outcome=approve")
        httpx.get(amazon.headers["location"], headers=BROWSER)
        assert api.get(f"/v1/connections/{created['id']}").json()["advertising"] == "connected"
        assert "Connect Amazon Ads" not in _page(back).text
        api.post(f"/v1/connections/{created['id']}/activate").raise_for_status()

        later = START + timedelta(days=340)
        live_sqlite.clock.set(later)
        Deadlines(live_sqlite.services).run_once(later)
        assert api.get(f"/v1/connections/{created['id']}").json()["state"] == "reauth_due"
        page = _page(back).text
        assert "Reconnect on Amazon" in page and "every 12 months" in page
        again = httpx.post(f"{back}/authorize", headers=BROWSER)
        assert again.status_code == 303
        assert "is connected" in _page(_follow_consent(live_sqlite, again.headers["location"])).text


@pytest.mark.parametrize("emails", [True, False])
def test_tenants_set_names_the_tenant_on_the_owner_pages(live_sqlite, emails, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", live_sqlite.services.settings.database_url)
    monkeypatch.setattr("service.logs.configure", lambda: None)  # keep pytest's logging
    args = ["tenants", "set", "--tenant", "tenant_a", "--name", "Acme Repricer"]
    args += ["--support-email", "help@acme.example"]
    args += [] if emails else ["--no-emails"]
    assert main(args) == 0
    assert main(["tenants", "set", "--tenant", "tenant_a", "--support-email", "nope"]) == 2
    profile = live_sqlite.services.tenants.get("tenant_a")
    assert profile.display_name == "Acme Repricer" and profile.emails_enabled is emails
    with live_sqlite.client() as api:
        page = _page(new_connection(api)["invitation_url"]).text
    assert "Acme Repricer" in page and "help@acme.example" in page


def test_the_sandbox_keeps_mails_for_a_person_to_read_at_sandbox_mail(live_sqlite) -> None:
    with live_sqlite.client() as api:
        created = new_connection(api)
        live_sqlite.services.mail.run_once()
        [mail] = api.get(f"/v1/connections/{created['id']}/emails").json()["data"]
    assert mail["status"] == "kept" and mail["to"] == "owner@example.com"
    box = _page(f"{live_sqlite.url}/sandbox/mail")
    assert box.status_code == 200 and mail["subject"] in box.text
    shown = _page(f"{live_sqlite.url}/sandbox/mail/{mail['id']}")
    assert created["invitation_url"] in shown.text
    part = _page(f"{live_sqlite.url}/sandbox/mail/{mail['id']}/html")
    assert created["invitation_url"] in part.text
    assert "default-src 'none'" in part.headers["content-security-policy"]
    assert _page(f"{live_sqlite.url}/sandbox/mail/ml_nothing").status_code == 404

"""Signing in to the console (SPEC §13): a one-time link e-mailed to the person, or a
password set through one (argon2id); server-side sessions in an HttpOnly, SameSite=Strict
cookie that end on sign-out and after 30 minutes idle; the same answer for every address;
attempts throttled in the store; every form's CSRF token checked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.conftest import LiveService, start_service
from tests.console.staff import (
    TENANT,
    add,
    ask_for_link,
    browser,
    csrf_of,
    mailed_links,
    new_connection,
    session_csrf,
    sign_in,
)


@pytest.fixture(scope="module")
def live(module_database_url: str) -> Iterator[LiveService]:
    service = start_service(module_database_url)
    service.services.tenants.set(TENANT, display_name="Acme Repricer")
    yield service
    service.stop()


def test_the_mailed_link_signs_in_once_with_a_strict_httponly_server_side_session(live):
    add(live, "sam@acme.example", "support")
    http = browser(live)
    asked = ask_for_link(http, "Sam@Acme.example")
    assert "Check your e-mail" in asked.text
    [link] = mailed_links(live, "sam@acme.example")
    assert "/console/sign-in/" in link
    page = http.get(link)
    assert "sam@acme.example" in page.text and http.cookies.get("console_session") is None
    answer = http.post(link, data={"csrf": csrf_of(page.text)})
    cookie = answer.headers["set-cookie"].lower()
    assert answer.status_code == 303
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    token = http.cookies["console_session"]
    row = live.services.tables.query("SELECT * FROM {p}console_sessions")
    assert token not in str([dict(r) for r in row])  # the store keeps only its hash
    home = http.get("/console")
    assert home.status_code == 200 and "sam@acme.example" in home.text

    again = browser(live).get(link)  # the link is spent: a new browser gets nothing
    assert again.status_code == 410 and "does not work any more" in again.text


def test_a_link_older_than_15_minutes_signs_no_one_in(live):
    add(live, "late@acme.example", "viewer")
    http = browser(live)
    ask_for_link(http, "late@acme.example")
    [link] = mailed_links(live, "late@acme.example")
    live.clock.advance(timedelta(minutes=16))
    assert http.get(link).status_code == 410


def test_known_and_unknown_addresses_get_the_same_answer_and_only_members_get_mail(live):
    add(live, "known@acme.example", "viewer")
    http = browser(live)
    known = ask_for_link(http, "known@acme.example")
    unknown = ask_for_link(http, "nobody@acme.example")
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content  # the same bytes: same form cookie, same token
    assert len(mailed_links(live, "known@acme.example")) == 1
    assert mailed_links(live, "nobody@acme.example") == []


def test_attempts_are_throttled_per_address_whether_or_not_it_is_known(live):
    add(live, "busy@acme.example", "viewer")
    for address in ("busy@acme.example", "ghost@acme.example"):
        http = browser(live)
        answers = [ask_for_link(http, address).status_code for _ in range(6)]
        assert answers == [200] * 5 + [429]
    assert len(mailed_links(live, "busy@acme.example")) == 5
    live.clock.advance(timedelta(minutes=16))
    assert ask_for_link(browser(live), "busy@acme.example").status_code == 200


def test_the_throttle_is_kept_in_the_store_for_every_process(live):
    """A second server on the same store counts the first one's attempts."""
    other = start_service(live.services.settings.database_url)
    try:
        add(live, "twice@acme.example", "viewer")
        for _ in range(3):
            ask_for_link(browser(live), "twice@acme.example")
        answers = [ask_for_link(browser(other), "twice@acme.example").status_code for _ in range(3)]
        assert answers == [200, 200, 429]
    finally:
        other.stop()


def test_a_password_set_through_a_link_is_kept_as_argon2id_and_signs_in(live):
    http = sign_in(live, "pat@acme.example", "auditor")
    token = session_csrf(http, "/console/password")
    short = http.post(
        "/console/password", data={"csrf": token, "password": "short", "again": "short"}
    )
    assert short.status_code == 422
    phrase = "correct horse battery staple"
    done = http.post("/console/password", data={"csrf": token, "password": phrase, "again": phrase})
    assert done.status_code == 200 and "Your password is set" in done.text
    stored = live.services.console.people.tables.get(TENANT, "pat@acme.example").password_hash
    assert stored.startswith("$argon2id$") and phrase not in stored

    fresh = browser(live)
    form = csrf_of(fresh.get("/console/sign-in").text)
    wrong = fresh.post(
        "/console/sign-in/password",
        data={"csrf": form, "email": "pat@acme.example", "password": "wrong horse"},
    )
    stranger = fresh.post(
        "/console/sign-in/password",
        data={"csrf": form, "email": "nobody@acme.example", "password": "wrong horse"},
    )
    assert wrong.status_code == stranger.status_code == 401
    assert wrong.content == stranger.content
    right = fresh.post(
        "/console/sign-in/password",
        data={"csrf": form, "email": "pat@acme.example", "password": phrase},
    )
    assert right.status_code == 303 and fresh.get("/console").status_code == 200


def test_sign_out_ends_the_session_in_the_store(live):
    http = sign_in(live, "out@acme.example", "viewer")
    token = http.cookies["console_session"]
    answer = http.post("/console/sign-out", data={"csrf": session_csrf(http)})
    assert answer.status_code == 303 and "ended=out" in answer.headers["location"]
    replay = browser(live)
    replay.cookies.set("console_session", token, path="/console")
    assert replay.get("/console").status_code == 303  # the old cookie opens nothing


def test_a_session_idle_for_30_minutes_ends(live):
    http = sign_in(live, "idle@acme.example", "viewer")
    live.clock.advance(timedelta(minutes=29))
    assert http.get("/console").status_code == 200  # activity keeps it alive
    live.clock.advance(timedelta(minutes=29))
    assert http.get("/console").status_code == 200
    live.clock.advance(timedelta(minutes=31))
    ended = http.get("/console")
    assert ended.status_code == 303 and ended.headers["location"] == "/console/sign-in?ended=idle"
    assert "30 minutes without activity" in http.get(ended.headers["location"]).text


def test_a_form_without_the_sessions_csrf_token_changes_nothing(live):
    c = new_connection(live)
    http = sign_in(live, "csrf@acme.example", "support")
    path = f"/console/connections/{c['id']}/resend-invitation"
    for data in (
        {},
        {"csrf": "forged"},
        {"csrf": csrf_of(browser(live).get("/console/sign-in").text)},
    ):
        refused = http.post(path, data=data)
        assert refused.status_code == 403 and "This form has expired" in refused.text
    with live.client(TENANT) as api:
        assert api.get(f"/v1/connections/{c['id']}").json()["version"] == 1
    assert http.post(path, data={"csrf": session_csrf(http)}).status_code == 303
    with live.client(TENANT) as api:
        assert api.get(f"/v1/connections/{c['id']}").json()["version"] == 2


def test_the_sign_in_forms_need_their_csrf_cookie(live):
    add(live, "forged@acme.example", "viewer")
    http = browser(live)
    answer = http.post("/console/sign-in", data={"email": "forged@acme.example", "csrf": "x" * 32})
    assert answer.status_code == 403
    assert mailed_links(live, "forged@acme.example") == []


def test_every_console_page_needs_a_session(live):
    c = new_connection(live)
    http = browser(live)
    for path in (
        "/console",
        f"/console/connections/{c['id']}",
        "/console/webhooks",
        "/console/operator",
        "/console/people",
        "/console/password",
        f"/console/connections/{c['id']}/export",
    ):
        answer = http.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in", path
    refused = http.post(f"/console/connections/{c['id']}/disconnect", data={"reason": "x"})
    assert refused.status_code == 303

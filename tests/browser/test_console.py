"""The console in a real Chromium, on a desktop and on a phone (SPEC §13): a support user
signs in through the e-mailed link (read in the sandbox mailbox), finds a connection by its
seller ID, reads why it failed, redelivers its failed webhook and sees the new attempt on
the timeline, and resends another connection's invitation; an auditor views a connection
as it was, verifies its chain and exports it; a viewer has no button and its POST is
refused. Every page passes axe-core's WCAG 2.2 A/AA rules and nothing loads from elsewhere.
The README's screenshots of the console come from here (`make screenshots`)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Tab, open_tab
from tests.conftest import LiveService, start_service
from tests.console.staff import TENANT, add
from tests.console.story import DECLINED_OWNER, SELLER, Story, deliver, hooks_receiver, make_story


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_file: Path
) -> Iterator[tuple[LiveService, Story, Any]]:
    path = tmp_path_factory.mktemp("console") / "connections.db"
    shutil.copyfile(migrated_sqlite_file, path)
    live = start_service(f"sqlite:///{path}", WEBHOOK_ALLOW_PRIVATE="1")
    live.services.tenants.set(TENANT, display_name="Acme Repricer")
    with hooks_receiver() as hooks:
        story = make_story(live, TENANT, hooks)
        yield live, story, hooks
    live.stop()


def checked(tab: Tab, shot: str | None = None) -> None:
    assert tab.accessibility() == [], f"accessibility violations on {tab.page.url}"
    if shot:
        tab.screenshot(shot)


def sign_in(live: LiveService, tab: Tab, email: str) -> None:
    """As a person does: asks for a link, reads it in the (sandbox) mailbox, follows it."""
    page = tab.page
    page.goto(f"{live.url}/console")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in to the console"
    checked(tab)
    page.get_by_label("Your work e-mail address").fill(email)
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your e-mail"
    checked(tab)
    deliver(live)
    page.goto(f"{live.url}/sandbox/mail")
    page.get_by_role("row").filter(has_text=email).get_by_role("link").first.click()
    text = page.locator("pre.mail").inner_text()
    link = re.search(r"http://\S+/console/sign-in/\S+", text).group(0)
    page.goto(link)
    assert email in page.get_by_role("main").inner_text()
    checked(tab)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/console")
    assert page.get_by_role("heading", level=1).inner_text() == "Connections"


def timeline(tab: Tab) -> str:
    return tab.page.locator("ol.timeline").inner_text()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_support_finds_a_seller_reads_why_redelivers_and_resends(browser, served, viewport):
    live, story, hooks = served
    email = f"sam.{viewport}@acme.example"
    add(live, email, "support")
    tab = open_tab(browser, live.url, viewport)
    page = tab.page
    sign_in(live, tab, email)
    checked(tab, "console-list" if viewport == "desktop" else "console-list-phone")

    page.get_by_label("Connection ID, seller ID or owner e-mail").fill(SELLER)
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=story.wrong_permissions["owner_email"]).click()
    assert page.get_by_role("heading", name="Why it failed").is_visible()
    why = page.get_by_role("main").inner_text()
    assert "SELLER_CENTRAL_PERMISSIONS_INCORRECT" in why and f"Merchant ID: {SELLER}" in why
    assert "HTTP 500" in timeline(tab)  # the endpoint refused the connection's webhooks
    checked(tab, "console-connection" if viewport == "desktop" else None)

    hooks.otherwise = (200, {}, "ok")  # the integrator fixed its endpoint
    live.clock.advance(timedelta(seconds=30))
    page.get_by_role("button", name=re.compile(r"^Redeliver")).first.click()
    assert (
        "A new delivery of the webhook is queued" in page.get_by_role("status").first.inner_text()
    )
    deliver(live)
    page.reload()
    first = page.locator("ol.timeline > li.entry-delivery").first.inner_text()
    assert "a redelivery" in first and "HTTP 200" in first  # the newest delivery
    assert f"by console:{email}" in timeline(tab)  # "Webhook redelivered", recorded
    checked(tab)

    page.get_by_role("link", name="All connections").click()
    page.get_by_label("Connection ID, seller ID or owner e-mail").fill(DECLINED_OWNER)
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=DECLINED_OWNER).click()
    assert "MARKETPLACE_NOT_PARTICIPATING" in page.get_by_role("main").inner_text()
    page.get_by_role("button", name="Resend the invitation").click()
    assert "The invitation was sent again." in page.get_by_role("status").first.inner_text()
    assert re.search(
        r"connection\.invitation_resent.*by console:" + re.escape(email), timeline(tab)
    )
    checked(tab)
    assert tab.foreign_requests() == []


def test_an_auditor_views_the_past_verifies_the_chain_and_exports(browser, served):
    live, story, _ = served
    add(live, "ada@acme.example", "auditor")
    tab = open_tab(browser, live.url, "desktop")
    page = tab.page
    sign_in(live, tab, "ada@acme.example")
    cid = story.wrong_permissions["id"]
    page.goto(f"{live.url}/console/connections/{cid}")
    assert page.get_by_role("button", name="Resend the invitation").count() == 0
    page.get_by_label(re.compile("^As it was at")).fill(story.wrong_permissions["created_at"])
    page.get_by_role("button", name="Show then").click()
    main = page.get_by_role("main").inner_text()
    assert (
        "As it was (" in main
        and "api_authorized" in page.locator("[aria-current=step]").inner_text()
    )
    checked(tab)

    page.get_by_role("button", name="Verify the hash chain").click()
    assert "The history is intact." in page.get_by_role("main").inner_text()
    checked(tab)
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON Lines").click()
    lines = Path(download.value.path()).read_text().splitlines()
    exported = [json.loads(line) for line in lines]
    assert exported[0]["connection_id"] == cid and len(exported) >= 3
    page.reload()
    assert "History exported" in timeline(tab) and "History verified" in timeline(tab)
    assert tab.foreign_requests() == []


def test_a_viewer_has_no_button_and_its_post_is_refused(browser, served):
    live, story, _ = served
    add(live, "val@acme.example", "viewer")
    tab = open_tab(browser, live.url, "phone")
    page = tab.page
    sign_in(live, tab, "val@acme.example")
    cid = story.declined["id"]
    page.goto(f"{live.url}/console/connections/{cid}")
    for name in ("Resend the invitation", "Show the invitation link", "Verify the hash chain"):
        assert page.get_by_role("button", name=name).count() == 0
    assert page.get_by_role("button", name=re.compile("^Redeliver")).count() == 0
    assert page.get_by_text("Disconnect…").count() == 0
    checked(tab)
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    refused = page.request.post(
        f"{live.url}/console/connections/{cid}/resend-invitation", form={"csrf": token}
    )
    assert refused.status == 403 and "Your role does not allow this" in refused.text()
    with live.client(TENANT) as api:
        types = [e["type"] for e in api.get(f"/v1/connections/{cid}/events").json()["data"]]
    assert "console:val@acme.example" not in json.dumps(types)

    live.clock.advance(timedelta(minutes=31))  # 30 minutes without a request end the session
    page.reload()
    assert "Your session ended after 30 minutes without activity" in page.inner_text("main")
    checked(tab)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_console_page_passes_axe_and_signing_out_ends_the_session(browser, served, viewport):
    live, story, _ = served
    email = f"root.{viewport}@acme.example"
    add(live, email, "admin")
    tab = open_tab(browser, live.url, viewport)
    page = tab.page
    sign_in(live, tab, email)
    paths = [
        "/console?attention=1",
        f"/console/connections/{story.declined['id']}",
        f"/console/connections/{story.wrong_permissions['id']}?version=1",
        "/console/connections/00000000-0000-4000-8000-000000000000",
        "/console/webhooks",
        "/console/operator",
        "/console/people",
        "/console/password",
    ]
    for path in paths:
        page.goto(f"{live.url}{path}")
        checked(tab)
    page.goto(f"{live.url}/console/connections/{story.declined['id']}")
    page.get_by_role("button", name="Show the invitation link").click()
    assert "/connect/" in page.get_by_label(re.compile("invitation link")).input_value()
    page.get_by_text("Disconnect…").click()
    checked(tab)
    page.get_by_role("button", name="Sign out").click()
    assert "You are signed out." in page.get_by_role("status").inner_text()
    checked(tab)
    page.goto(f"{live.url}/console")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in to the console"
    assert tab.foreign_requests() == []

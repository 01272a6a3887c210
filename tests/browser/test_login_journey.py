"""The owner's Login URI journey in a real browser (SPEC §7, §12): from the sandbox's Manage
Your Apps, "Re-authorize" without a session leads to the neutral page, whose e-mailed link
(over SMTP) continues to Amazon and renews an `active` connection; the same browser, now
holding the owner's session, goes straight to Amazon's confirm step the next time. Every
page of the service passes axe-core's WCAG 2.2 AA rules, and nothing loads from elsewhere."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tests.browser.conftest import Tab, open_tab
from tests.conftest import START
from tests.connect.test_owner_proof import VICTIM, _active
from tests.mail.test_mail import OWNER, body, mailing, run_mail, smtp  # noqa: F401  (fixtures)


def _checked(tab: Tab, shot: str) -> None:
    assert tab.accessibility() == [], f"accessibility violations on {tab.page.url}"
    tab.screenshot(shot)


def test_owner_renews_from_manage_your_apps_without_then_with_a_session(
    browser: Any,
    mailing: Any,  # noqa: F811
    smtp: Any,  # noqa: F811
) -> None:
    live, (_, inbox, _) = mailing, smtp
    with live.client() as api:
        c = _active(api, {"owner_email": OWNER}, VICTIM)
        run_mail(live)
        inbox.messages.clear()
        live.clock.set(START + timedelta(days=100))
        tab = open_tab(browser, live.url, "desktop")
        page = tab.page
        manage = f"{live.url}/sandbox/amazon/na/apps/manage?selling_partner_id={VICTIM}"

        page.goto(manage)
        page.get_by_role("link", name="Re-authorize").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Confirm it is you"
        _checked(tab, "login-1-neutral")
        page.get_by_role("button", name="E-mail me a link").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Check your e-mail"
        _checked(tab, "login-2-asked")

        run_mail(live)
        (mail,) = inbox.to(OWNER)
        link = re.search(r"http://\S+/login/continue/\S+", body(mail, "plain")).group(0)
        page.goto(link)
        assert "/apps/authorize/confirm" in page.url
        page.get_by_role("link", name=re.compile(r"^approve\b")).click()
        page.wait_for_url(re.compile(r"/connect/"))
        _checked(tab, "login-3-renewed")
        after = api.get(f"/v1/connections/{c['id']}").json()
        assert after["state"] == "active" and after["lapses_at"] > c["lapses_at"]

        page.goto(manage)  # the next time: the session the link gave continues at once
        page.get_by_role("link", name="Re-authorize").click()
        assert "/apps/authorize/confirm" in page.url
        assert tab.foreign_requests() == []

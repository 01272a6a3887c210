"""The owner's whole journey in a real browser, on a desktop and on a phone (SPEC §10).

The owner opens the invitation link, continues to the sandbox Amazon, comes back with a
catalogue error, reads its remediation, tries again, succeeds, does the Seller Central
checklist; the integrator confirms the permissions and activates; the owner's page then
says the account is connected. Every page passes axe-core's WCAG 2.2 AA rules, and the
browser never asks anything of another origin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from domain.errors import entry
from domain.permissions import REQUIRED_SC_PERMISSIONS
from tests.browser.conftest import Tab, open_tab
from tests.conftest import LiveService, start_service

FAILURE = "MARKETPLACE_NOT_PARTICIPATING"  # an outcome Amazon sends back (not its own page)


@pytest.fixture
def live_journey(sqlite_url: str) -> Iterator[LiveService]:
    service = start_service(sqlite_url)
    service.services.tenants.set(
        "tenant_a", display_name="Acme Repricer", support_email="help@acme.example"
    )
    yield service
    service.stop()


def _checked(tab: Tab, shot: str) -> None:
    assert tab.accessibility() == [], f"accessibility violations on {tab.page.url}"
    tab.screenshot(shot)


def _on_amazon_pick(tab: Tab, outcome: str) -> None:
    tab.page.get_by_role("link", name=re.compile(rf"^{outcome}\b")).click()
    tab.page.wait_for_url(re.compile(r"/connect/"))


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_owner_connects_after_one_catalogue_error_on_desktop_and_phone(
    browser: Any, live_journey: LiveService, viewport: str
) -> None:
    with live_journey.client() as api:
        created = api.post(
            "/v1/connections",
            json={
                "owner_email": "owner@shop.example",
                "region": "na",
                "marketplace_ids": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
                "invited_by": {
                    "name": "Jane Doe",
                    "email": "jane@agency.example",
                    "role": "agency",
                },
            },
        ).json()
        tab = open_tab(browser, live_journey.url, viewport)
        page = tab.page

        page.goto(created["invitation_url"])
        assert page.get_by_role("heading", level=1).inner_text() == "Connect your Amazon account"
        main = page.locator("main").inner_text()
        assert "Jane Doe (your agency, using Acme Repricer)" in main
        assert "primary owner" in main and "Professional" in main and "15 minutes" in main
        assert "United States, Canada" in main
        _checked(tab, f"journey-1-invitation-{viewport}")

        page.get_by_role("button", name="Continue to Amazon").click()
        _on_amazon_pick(tab, FAILURE)
        failed = entry(FAILURE)
        assert page.get_by_role("heading", name=failed.title).is_visible()
        steps = page.locator(".problem ol.steps li").all_inner_texts()
        assert steps == list(failed.remediation)
        support = page.locator(".support").inner_text()
        assert created["id"] in support and "UTC" in support
        _checked(tab, f"journey-2-failed-{viewport}")

        page.get_by_role("button", name="Try again").click()
        _on_amazon_pick(tab, "approve")
        assert "one more step" in page.get_by_role("heading", level=1).inner_text()
        boxes = page.get_by_role("checkbox")
        assert boxes.count() == len(REQUIRED_SC_PERMISSIONS)
        _checked(tab, f"journey-3-seller-central-{viewport}")

        # The browser itself refuses the form until every permission is ticked (no script).
        page.get_by_role("button", name="I have invited the user").click()
        assert api.get(f"/v1/connections/{created['id']}").json()["state"] == "api_authorized"
        for i in range(boxes.count()):
            boxes.nth(i).check()
        page.get_by_role("button", name="I have invited the user").click()
        page.wait_for_load_state()
        assert "60 minutes or more" in page.locator("main").inner_text()
        _checked(tab, f"journey-4-waiting-{viewport}")

        # The integrator's backend: its user accepted and found the matrix right.
        confirmed = api.post(
            f"/v1/connections/{created['id']}/confirm_seller_central_user",
            json={"permissions": REQUIRED_SC_PERMISSIONS},
        )
        assert confirmed.status_code == 200, confirmed.text
        assert api.post(f"/v1/connections/{created['id']}/activate").status_code == 200

        page.get_by_role("link", name="Check the status now").click()
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading == "Your Amazon account is connected"
        _checked(tab, f"journey-5-active-{viewport}")
        assert api.get(f"/v1/connections/{created['id']}").json()["state"] == "active"

    assert tab.foreign_requests() == []
    assert not [m for m in tab.console if "Content Security Policy" in m]
    page.context.close()

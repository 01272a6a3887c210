"""/docs in a real headless Chromium with the network cut off: every request that is not
to the service itself is aborted, and there must be none."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import open_tab


def test_the_docs_render_in_chromium_with_the_network_cut_off(live_sqlite, browser: Any):
    tab = open_tab(browser, live_sqlite.url, "desktop")
    tab.page.context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live_sqlite.url + "/")
            else route.abort("internetdisconnected")
        ),
    )
    tab.page.goto(f"{live_sqlite.url}/docs", wait_until="networkidle")
    tab.page.wait_for_selector(".opblock", timeout=30_000)  # operations drawn by Swagger UI

    assert tab.page.title() == "Marketplace connection service"
    assert tab.page.locator(".opblock").count() >= 20
    assert tab.page.get_by_text("/v1/connections/{connection_id}/events").count() >= 1
    assert tab.screenshot("docs-offline").stat().st_size > 10_000
    assert any(r.endswith("/docs/assets/swagger-ui-bundle.js") for r in tab.requests)
    assert tab.foreign_requests() == []
    assert [m for m in tab.console if "rror" in m] == []

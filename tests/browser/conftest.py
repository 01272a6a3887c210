"""A real headless Chromium (Debian's `chromium`, driven by Playwright through
`executable_path`; no browser is ever downloaded) and axe-core from npm.

`make install` puts both in place. Each page can be checked with `accessibility(page)`;
every request the browser makes is recorded, so a test can show none left the origin.
Screenshots go to var/screenshots, or to docs/screenshots (the README's) with
UPDATE_SCREENSHOTS=1 (`make screenshots`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") else "var") / "screenshots"
# The WCAG 2.0, 2.1 and 2.2 A and AA rules (axe's tags); best practices are not a standard.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Debian's chromium is missing: `make install` installs it")
    return path


# One Chromium for the browser tests, closed when they are done: Playwright's sync API keeps
# an event loop marked running on this thread while it is open, and a later test of the
# same worker that runs a loop of its own (anyio.run) would be refused.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=_chromium(), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@dataclass
class Tab:
    """One browser tab and what it saw."""

    page: Any
    origin: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(self.origin + "/")]

    def accessibility(self) -> list[dict[str, Any]]:
        """axe-core's WCAG 2.2 A/AA violations on the current page (evaluated through the
        DevTools protocol, so the page's own CSP still forbids every script but ours)."""
        if not AXE.exists():
            pytest.fail("axe-core is missing: `make install` runs npm ci")
        self.page.evaluate(AXE.read_text())
        result = self.page.evaluate(
            "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]
        ]

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def open_tab(browser: Any, origin: str, viewport: str) -> Tab:
    context = browser.new_context(**VIEWPORTS[viewport], locale="en-GB")
    page = context.new_page()
    tab = Tab(page, origin)
    page.on("request", lambda r: tab.requests.append(r.url))
    page.on("console", lambda m: tab.console.append(m.text))
    return tab

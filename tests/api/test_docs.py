"""/docs works offline: the page and everything it loads come from the service itself
(tests/browser/test_docs.py renders it in Chromium with the network cut off)."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx

REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)|url\(\s*["']?([^"')]+)""")


def references(text: str) -> list[str]:
    return [a or b for a, b in REFERENCE.findall(text) if not (a or b).startswith("data:")]


def test_the_docs_page_and_its_styles_reference_no_other_origin(live_sqlite):
    page = httpx.get(f"{live_sqlite.url}/docs")
    assert page.status_code == 200
    own = urlsplit(live_sqlite.url).netloc
    assets = references(page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        url = urljoin(f"{live_sqlite.url}/docs", asset)
        assert urlsplit(url).netloc == own, asset
        served = httpx.get(url)
        assert served.status_code == 200, asset
        if asset.endswith(".css"):  # stylesheets may pull fonts and images themselves
            assert all(urlsplit(urljoin(url, r)).netloc == own for r in references(served.text))
    assert "<noscript>" in page.text  # without JavaScript, a link to the contract itself

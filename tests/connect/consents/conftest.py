"""The Amazon consents over HTTP, on each store, against the sandbox Amazon (SPEC §2, §3, §7).

The owner is played by plain HTTP calls: open the consent URL with `sandbox_outcome=` (the
sandbox redirects at once, as Seller Central or Login with Amazon would), then follow the
redirect to the service's callback. The real `AmazonClient` exchanges the code and runs the
account checks against the sandbox, so each outcome reaches the service the way Amazon's
answer would.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveService, start_service
from tests.connect.consents.helpers import TENANT


@pytest.fixture(scope="module")
def live(module_database_url: str) -> Iterator[LiveService]:
    """Overrides the suite's `live` for these modules: one real server per store and
    module, shared by its tests, so the many outcome cases stay fast. Each test works on
    connections (and selling partner ids) of its own; tests that move the clock only ever
    move it forward, and every test reads the time from `live.clock`."""
    service = start_service(module_database_url)
    yield service
    service.stop()


@pytest.fixture
def api(live: LiveService) -> Iterator[httpx.Client]:
    with live.client(TENANT) as client:
        yield client

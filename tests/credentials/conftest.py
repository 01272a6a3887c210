"""What the credentials tests share: an SP-API host on loopback (tests.credentials.amazon_peer),
and a backend's client of the module's `served` service."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveService
from tests.credentials.amazon_peer import AmazonPeer
from tests.credentials.helpers import SCOPES


@pytest.fixture
def amazon_peer() -> Iterator[AmazonPeer]:
    peer = AmazonPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def backend(served: LiveService) -> Iterator[httpx.Client]:
    """A client with the credentials scopes, of the `served` service each module starts."""
    with served.client(scopes=SCOPES) as client:
        yield client

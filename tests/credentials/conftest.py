"""What the credentials tests share: an SP-API host on loopback (tests.credentials.amazon_peer)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.credentials.amazon_peer import AmazonPeer


@pytest.fixture
def amazon_peer() -> Iterator[AmazonPeer]:
    peer = AmazonPeer().start()
    yield peer
    peer.stop()

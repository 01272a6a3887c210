"""No cookie crosses from one call out to the next: a Set-Cookie from Amazon (or a webhook
receiver) on one tenant's call must never be sent on another's, as an httpx client's own
cookie jar would do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import anyio
import pytest

from adapters.http_clients import async_client, sync_client
from tests.conftest import LiveService, start_service
from tests.credentials.amazon_peer import AmazonPeer
from tests.credentials.helpers import SCOPES, active


@pytest.fixture
def cookie_setter(amazon_peer: AmazonPeer) -> AmazonPeer:
    """A host that answers every call with a cookie (tests.credentials.amazon_peer)."""
    amazon_peer.headers = {"Set-Cookie": "session=amazon-side; Path=/"}
    amazon_peer.body = b"{}"
    return amazon_peer


def cookies_sent(peer: AmazonPeer) -> list[str | None]:
    return [r.headers.get("Cookie") for r in peer.seen]


@pytest.fixture
def served(sqlite_url: str) -> Iterator[LiveService]:
    live = start_service(sqlite_url, RATE_LIMIT_PER_SECOND="0")
    yield live
    live.stop()


def test_a_cookie_amazon_sets_on_one_tenants_proxied_call_is_not_sent_on_the_next(
    served, cookie_setter
):
    with (
        served.client("tenant_a", SCOPES) as tenant_a,
        served.client("tenant_b", SCOPES) as tenant_b,
    ):
        a, b = active(tenant_a), active(tenant_b)
        amazon = served.services.amazon
        amazon.settings = replace(amazon.settings, sp_api_urls={"na": cookie_setter.url})
        path = "/sellers/v1/marketplaceParticipations"
        first = tenant_a.get(f"/v1/connections/{a['id']}/proxy/sp-api{path}")
        second = tenant_b.get(f"/v1/connections/{b['id']}/proxy/sp-api{path}")
        again = tenant_a.get(f"/v1/connections/{a['id']}/proxy/sp-api{path}")
    assert [first.status_code, second.status_code, again.status_code] == [200, 200, 200]
    assert "set-cookie" not in first.headers  # nor is it passed to the caller
    assert cookies_sent(cookie_setter) == [None, None, None]


def test_the_clients_built_for_calls_out_keep_no_cookie(cookie_setter):
    url = cookie_setter.url + "/any"
    with sync_client() as client:
        client.get(url)
        client.get(url)
        assert not client.cookies
    assert cookies_sent(cookie_setter) == [None, None]


def test_the_async_client_built_for_calls_out_keeps_no_cookie(cookie_setter):
    url = cookie_setter.url + "/any"

    async def twice() -> bool:
        async with async_client() as client:
            await client.get(url)
            await client.get(url)
            return not client.cookies

    assert anyio.run(twice)
    assert cookies_sent(cookie_setter) == [None, None]

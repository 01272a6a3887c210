"""The proxy to Amazon (SPEC §9) against the sandbox Amazon, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from domain.exceptions import ValidationFailed
from service.credentials import proxy
from tests.conftest import LiveService, start_service
from tests.credentials.helpers import SCOPES, active, token

ORDERS = "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&CreatedAfter=2026-01-01T00:00:00Z"


@pytest.fixture
def served(database_url: str) -> Iterator[LiveService]:
    live = start_service(database_url, RATE_LIMIT_PER_SECOND="0")
    yield live
    live.stop()


def proxied(backend: httpx.Client, c: dict, path: str, api: str = "sp-api", **kw):
    return backend.request(
        kw.pop("method", "GET"), f"/v1/connections/{c['id']}/proxy/{api}{path}", **kw
    )


def test_orders_come_back_with_amazons_status_body_and_rate_limit_headers(served, backend):
    c = active(backend)
    first = proxied(backend, c, ORDERS + "&MaxResultsPerPage=5")
    assert first.status_code == 200, first.text
    page = first.json()["payload"]
    assert len(page["Orders"]) == 5 and page["NextToken"]
    assert first.headers["x-amzn-ratelimit-limit"] == "0.0167"
    assert first.headers["x-amzn-requestid"]
    rest = proxied(backend, c, f"{ORDERS}&NextToken={page['NextToken']}").json()["payload"]
    assert len(rest["Orders"]) == 2 and "NextToken" not in rest
    ids = {o["AmazonOrderId"] for o in page["Orders"] + rest["Orders"]}
    assert len(ids) == 7


def test_throttled_calls_are_retried_within_the_callers_bound(served, backend):
    c = active(backend)
    partner = c["selling_partner_id"]
    sandbox = f"{served.url}/sandbox/amazon/throttle"
    httpx.post(sandbox, json={"selling_partner_id": partner, "count": 2, "rate": 50})
    assert proxied(backend, c, ORDERS).status_code == 200  # two 429s retried

    httpx.post(sandbox, json={"selling_partner_id": partner, "count": 2, "rate": 50})
    refused = proxied(backend, c, ORDERS, headers={"X-Throttle-Retries": "1"})
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "QuotaExceeded"
    assert refused.headers["x-amzn-ratelimit-limit"] == "50"
    bad = proxied(backend, c, ORDERS, headers={"X-Throttle-Retries": "99"})
    assert bad.status_code == 422


@pytest.mark.parametrize("value", ["²".encode("latin-1"), b"1\xb2", b"9" * 5000, b"-1", b"2.0"])
def test_a_throttle_retries_header_other_than_ascii_digits_is_refused_not_a_crash(
    served, backend, value
):
    c = active(backend)
    refused = proxied(backend, c, ORDERS, headers={"X-Throttle-Retries": value})
    assert refused.status_code == 422, refused.text
    assert "X-Throttle-Retries" in refused.text


@pytest.mark.parametrize("value", [" 0 ", "5", "05"])
def test_a_throttle_retries_header_of_ascii_digits_up_to_five_is_taken(value: str) -> None:
    assert proxy.throttle_retries(value) == int(value)


def test_throttled_calls_wait_as_long_as_the_rate_amazon_announced_before(served, backend):
    """Amazon leaves x-amzn-RateLimit-Limit off its 429s: the wait comes from the rate the
    operation announced on its earlier answers (one request's worth, doubled per retry)."""
    c = active(backend)
    sandbox = f"{served.url}/sandbox/amazon/throttle"

    def throttle(count: int, rate: float) -> None:
        body = {"selling_partner_id": c["selling_partner_id"], "count": count, "rate": rate}
        httpx.post(sandbox, json={**body, "rate_on_429": False}).raise_for_status()

    throttle(0, 20)  # the seller's getOrders plan: 20 requests per second
    assert proxied(backend, c, ORDERS).headers["x-amzn-ratelimit-limit"] == "20"
    throttle(2, 20)
    started = time.monotonic()
    retried = proxied(backend, c, ORDERS)
    assert retried.status_code == 200  # waited 50 ms, then 100 ms (not 1 s, then 2 s)
    assert time.monotonic() - started < 1.5

    throttle(0, 0.0167)  # Amazon's default plan: a request's worth comes back in a minute
    assert proxied(backend, c, ORDERS).headers["x-amzn-ratelimit-limit"] == "0.0167"
    throttle(1, 0.0167)
    started = time.monotonic()
    refused = proxied(backend, c, ORDERS)
    assert refused.status_code == 429  # beyond any wait worth holding the caller for
    assert "x-amzn-ratelimit-limit" not in refused.headers
    assert time.monotonic() - started < 1.0


def test_a_restricted_operation_gets_its_restricted_data_token(served, backend):
    c = active(backend)
    order = proxied(backend, c, ORDERS).json()["payload"]["Orders"][0]["AmazonOrderId"]
    address = proxied(backend, c, f"/orders/v0/orders/{order}/address")
    assert address.status_code == 200, address.text
    assert address.json()["payload"]["ShippingAddress"]["City"]
    # Amazon refuses the plain access token there: the proxy did fetch the RDT.
    plain = token(backend, c["id"]).json()
    direct = httpx.get(
        f"{plain['endpoint']}/orders/v0/orders/{order}/address",
        headers={"x-amz-access-token": plain["access_token"]},
    )
    assert direct.status_code == 403


def test_a_revoked_grant_is_recorded_and_refused(served, backend):
    c = active(backend)
    assert proxied(backend, c, ORDERS).status_code == 200
    partner = c["selling_partner_id"]
    httpx.post(f"{served.url}/sandbox/amazon/grants/{partner}/revoke").raise_for_status()
    refused = proxied(backend, c, ORDERS)
    assert refused.status_code == 409 and refused.json()["code"] == "ACCESS_REVOKED"
    after = backend.get(f"/v1/connections/{c['id']}").json()
    assert after["state"] == "reauth_due" and after["last_error"]["code"] == "ACCESS_REVOKED"


@pytest.mark.parametrize(
    "path", ["/..%2f..%2fsandbox/x", "/orders/../../x", "//evil.example/x", "/a%2e%2e/b"]
)
def test_the_proxy_never_leaves_amazons_regional_host(served, backend, path):
    c = active(backend)
    answer = backend.get(f"/v1/connections/{c['id']}/proxy/sp-api{path}")
    assert answer.status_code in (404, 422), answer.text


def test_a_proxied_path_with_a_space_or_a_control_character_is_refused():
    # Decoded from %20, %09 and the like: never sent on to Amazon's host.
    for code in range(0x21):
        with pytest.raises(ValidationFailed):
            proxy.check_path(f"/orders/v0/orders{chr(code)}x")
    proxy.check_path("/orders/v0/orders!x")  # the first character above the space passes


def test_the_proxy_needs_the_proxy_scope(served):
    with served.client(scopes=SCOPES) as owner:
        c = active(owner)
    with served.client(scopes=["connections:read", "credentials:read"]) as other:
        assert proxied(other, c, ORDERS).status_code == 403


def test_credentials_and_hop_by_hop_headers_never_cross_and_bodies_stream(
    served, backend, amazon_peer
):
    # Amazon answers with a cookie, its own headers and a large body.
    amazon_peer.status, amazon_peer.body = 207, b"x" * 300_000
    amazon_peer.headers = {
        "Set-Cookie": "session=amazon-side",
        "x-amzn-RequestId": "req-123",
        "x-amzn-RateLimit-Limit": "2.0",
    }
    c = active(backend)
    amazon = served.services.amazon
    amazon.settings = replace(amazon.settings, sp_api_urls={"na": amazon_peer.url})
    body = b'{"feedType": "POST_PRODUCT_DATA"}' * 2000
    answer = backend.request(
        "PUT",
        f"/v1/connections/{c['id']}/proxy/sp-api/feeds/2021-06-30/feeds?x=1",
        content=body,
        headers={
            "Cookie": "mine=1",
            "Connection": "keep-alive, X-Secret-Hop",
            "X-Secret-Hop": "hop",
            "Proxy-Authorization": "Basic abc",
            "Content-Type": "application/json",
            "X-Amz-Date": "20260101T000000Z",  # x-amz-* crosses (SPEC §9's allow-list)
            "X-Custom": "stays",  # anything else does not
        },
    )
    assert answer.status_code == 207
    assert len(answer.content) == 300_000
    assert answer.headers["x-amzn-requestid"] == "req-123"
    assert "set-cookie" not in answer.headers
    [(method, path, headers, received)] = [
        (r.method, r.path, r.headers, r.body) for r in amazon_peer.seen
    ]
    lower = {k.lower(): v for k, v in headers.items()}
    assert (method, path, received) == ("PUT", "/feeds/2021-06-30/feeds?x=1", body)
    assert lower["x-amz-access-token"].startswith("Atza|")
    assert lower["user-agent"].endswith("(Language=Python)")
    assert lower["x-amz-date"] == "20260101T000000Z"
    assert lower["content-type"] == "application/json"
    for header in ("cookie", "x-secret-hop", "proxy-authorization", "x-custom"):
        assert header not in lower
    api_key = backend.headers["authorization"]
    assert all(api_key.split()[-1] not in v for v in headers.values())
    assert "authorization" not in lower

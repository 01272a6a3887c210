"""The proxy's edges (issue #24): headers cross by allow-list both ways, Amazon's silence is
the catalogue's 503 with an access-log line, and repeated 403s cost one refresh a minute."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from tests.conftest import LiveService, start_service
from tests.credentials.amazon_peer import AmazonPeer
from tests.credentials.helpers import SCOPES, active, token
from tests.credentials.lwa_peer import LwaPeer

HOSTILE_ANSWER_HEADERS = {
    "Location": "https://evil.example/",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Credentials": "true",
    "Strict-Transport-Security": "max-age=0",
    "Refresh": "0; url=https://evil.example/",
    "Set-Cookie": "session=amazon-side",
    "Server": "Server",
}


@pytest.fixture
def lwa() -> Iterator[LwaPeer]:
    peer = LwaPeer(upstream="").start()
    yield peer
    peer.stop()


@pytest.fixture
def served(database_url: str, lwa: LwaPeer) -> Iterator[LiveService]:
    live = start_service(database_url, LWA_TOKEN_URL=lwa.url, RATE_LIMIT_PER_SECOND="0")
    lwa.upstream = f"{live.url}/sandbox/amazon/auth/o2/token"
    yield live
    live.stop()


def through(served: LiveService, peer: AmazonPeer, **settings: object) -> None:
    """The connection's SP-API host is `peer` from now on (the proxy's client is made on
    its first call, with the settings then in force)."""
    client = served.services.amazon
    client.settings = replace(client.settings, sp_api_urls={"na": peer.url}, **settings)


def proxied(api: httpx.Client, c: dict, path: str = "/orders/v0/orders", **kw) -> httpx.Response:
    return api.get(f"/v1/connections/{c['id']}/proxy/sp-api{path}", **kw)


def test_only_amazons_own_headers_come_back_and_an_html_answer_cannot_run(served, amazon_peer):
    amazon_peer.headers = {
        **HOSTILE_ANSWER_HEADERS,
        "Content-Type": "text/html",
        "x-amzn-RequestId": "req-1",
        "x-amz-rid": "rid-1",
    }
    amazon_peer.body = b"<script>alert(document.cookie)</script>"
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon_peer)
        answer = proxied(api, c)
    assert answer.status_code == 200
    assert answer.headers["x-amzn-requestid"] == "req-1"
    assert answer.headers["x-amz-rid"] == "rid-1"
    for name in HOSTILE_ANSWER_HEADERS:
        assert answer.headers.get(name) in (None, "uvicorn"), name  # server: ours, if any
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]


def test_only_the_callers_content_headers_and_x_amz_headers_go_to_amazon(served, amazon_peer):
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon_peer)
        proxied(
            api,
            c,
            headers=[
                ("Accept", "application/json"),
                ("Origin", "https://tenant.example"),
                ("Referer", "https://tenant.example/page"),
                ("X-Real-IP", "203.0.113.9"),
                ("X-Amz-Date", "20260101T000000Z"),
                ("X-Amz-Hop", "named in the second Connection header"),
                ("Connection", "keep-alive"),
                ("Connection", "X-Amz-Hop"),
            ],
        )
    [request] = amazon_peer.seen
    sent = {k.lower() for k in request.headers}
    assert {"accept", "x-amz-date", "x-amz-access-token", "user-agent"} <= sent
    assert not sent & {"origin", "referer", "x-real-ip", "x-amz-hop", "content-length"}


def test_a_body_goes_to_amazon_with_only_the_callers_content_headers(served, amazon_peer):
    """The relay's client adds no Content-Type the caller did not send (aiohttp would
    name a byte body application/octet-stream)."""
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon_peer)
        path = f"/v1/connections/{c['id']}/proxy/sp-api/feeds/2021-06-30/documents"
        answer = api.post(path, content=b'{"contentType": "text/xml"}')
        assert answer.status_code == 200, answer.text
        typed = api.post(path, content=b"{}", headers={"Content-Type": "application/json"})
        assert typed.status_code == 200, typed.text
    untyped, json_typed = ({k.lower(): v for k, v in r.headers.items()} for r in amazon_peer.seen)
    assert "content-type" not in untyped
    assert untyped.get("content-length") == "27"
    assert json_typed.get("content-type") == "application/json"


def test_amazons_silence_is_a_503_with_its_line_in_the_access_log(served, amazon_peer):
    amazon_peer.delay = 3.0
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon_peer, timeout=0.5)
        answer = proxied(api, c)
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "AMAZON_UNAVAILABLE"
        assert answer.headers["retry-after"]
        assert _proxy_lines(served, api, c) == [(504, "unreachable")]


def test_repeated_403s_cost_one_refresh_and_one_check_a_minute(served, amazon_peer, lwa):
    amazon_peer.status, amazon_peer.sellers_status, amazon_peer.body = (
        403,
        200,
        b'{"errors": [{"code": "Unauthorized"}]}',
    )
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon_peer)
        assert token(api, c["id"]).status_code == 201  # the access token the calls use
        before = lwa.refreshes
        answers = [proxied(api, c) for _ in range(20)]
    assert [a.status_code for a in answers] == [403] * 20  # a missing role, not a revocation
    assert lwa.refreshes - before == 1
    # 20 calls, one retry with the fresh token, one Sellers check
    assert len(amazon_peer.seen) == 22
    assert sum(r.path.startswith("/sellers/") for r in amazon_peer.seen) == 1


def test_the_403_cool_down_is_shared_by_every_process_on_the_store(
    served, amazon_peer, lwa, database_url
):
    """Two processes on one store (each with its own memory): 403s through both still cost
    one refresh and one check in the minute; after it, one more."""
    amazon_peer.status, amazon_peer.sellers_status = 403, 200
    other = start_service(database_url, LWA_TOKEN_URL=lwa.url, RATE_LIMIT_PER_SECOND="0")
    try:
        with served.client(scopes=SCOPES) as api:
            c = active(api)
            key = api.headers["authorization"]
            for process in (served, other):
                through(process, amazon_peer)
            assert token(api, c["id"]).status_code == 201
            before = lwa.refreshes
            with httpx.Client(base_url=other.url, headers={"Authorization": key}) as api2:
                answers = [proxied(client, c) for client in (api, api2) * 5]
                assert [a.status_code for a in answers] == [403] * 10
                assert lwa.refreshes - before == 1
                for process in (served, other):
                    process.clock.advance(timedelta(seconds=61))
                assert proxied(api2, c).status_code == 403
        assert lwa.refreshes - before == 2
        assert sum(r.path.startswith("/sellers/") for r in amazon_peer.seen) == 2
    finally:
        other.stop()


def test_a_get_announcing_a_body_it_does_not_send_is_forwarded_without_one(served, amazon_peer):
    """`Content-Length: 5` on a GET with no body: Amazon gets the GET without the header
    (it was forwarded, and the client refused to send fewer bytes than announced: a 500)."""
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon_peer)
        key = api.headers["authorization"]
    host, port = served.url.removeprefix("http://").split(":")
    path = f"/v1/connections/{c['id']}/proxy/sp-api/orders/v0/orders"
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {key}\r\n"
            "Content-Length: 5\r\nConnection: close\r\n\r\n".encode()
        )
        status_line = raw.makefile("rb").readline().decode()
    assert status_line.split()[1] == "200", status_line
    [request] = amazon_peer.seen
    assert "content-length" not in {k.lower() for k in request.headers}


def _proxy_lines(served: LiveService, api: httpx.Client, c: dict) -> list[dict]:
    served.services.credentials.access_log.flush()
    page = api.get(f"/v1/connections/{c['id']}/access_log").json()["data"]
    return [(e["status"], e["outcome"]) for e in page if e["kind"] == "proxy"]


def test_an_upload_over_the_proxys_limit_is_a_413_with_its_line_in_the_access_log(
    served, amazon_peer
):
    """A chunked body (no Content-Length to refuse up front) that grows past 10 MiB while it
    streams to Amazon: the caller gets 413, and the call that reached Amazon is logged."""

    def upload() -> Iterator[bytes]:
        for _ in range(11):
            yield b"x" * (1024 * 1024)

    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon_peer)
        try:
            answer = api.post(
                f"/v1/connections/{c['id']}/proxy/sp-api/feeds/2021-06-30/documents",
                content=upload(),
            )
            assert answer.status_code == 413, answer.text
        except httpx.TransportError:
            pass  # the service may close the connection before the whole upload is sent
        assert _proxy_lines(served, api, c) == [(413, "failed")]


@pytest.fixture
def short_body_timeout() -> Iterator[None]:
    from service.api.edge import http as limits

    saved = limits.LimitedHttpToolsProtocol.limits
    limits.configure(replace(saved, body_timeout=1.0))
    yield
    limits.configure(saved)


def test_a_body_too_slow_to_arrive_is_a_408_with_its_line_in_the_access_log(
    served, amazon_peer, short_body_timeout
):
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon_peer)
        key = api.headers["authorization"]
        host, port = served.url.removeprefix("http://").split(":")
        path = f"/v1/connections/{c['id']}/proxy/sp-api/feeds/2021-06-30/documents"
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {key}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
            )
            status_line = raw.makefile("rb").readline().decode()
        assert status_line.split()[1:2] in (["408"], []), status_line
        deadline = time.monotonic() + 5
        while not (lines := _proxy_lines(served, api, c)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lines == [(408, "failed")]

"""The proxy's edges (issue #24): headers cross by allow-list both ways, Amazon's silence is
the catalogue's 503 with an access-log line, and repeated 403s cost one refresh a minute."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.conftest import LiveService, start_service
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


class Peer:
    """An SP-API host on loopback: answers `status` with `headers` (after `delay` seconds)
    and records each request's headers."""

    def __init__(self) -> None:
        self.status, self.delay, self.seen = 200, 0.0, []
        self.headers: dict[str, str] = {}
        self.body = b'{"payload": []}'
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                peer.seen.append((self.path, dict(self.headers)))
                time.sleep(peer.delay)
                probe = self.path.startswith("/sellers/")  # the grant itself is fine
                self.send_response(200 if probe else peer.status)
                for name, value in peer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(peer.body)))
                self.end_headers()
                self.wfile.write(peer.body)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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


@pytest.fixture
def amazon(served: LiveService) -> Iterator[Peer]:
    peer = Peer()
    yield peer
    peer.stop()


def through(served: LiveService, peer: Peer, **settings: object) -> None:
    """The connection's SP-API host is `peer` from now on (the proxy's client is made on
    its first call, with the settings then in force)."""
    client = served.services.amazon
    client.settings = replace(client.settings, sp_api_urls={"na": peer.url}, **settings)


def proxied(api: httpx.Client, c: dict, path: str = "/orders/v0/orders", **kw) -> httpx.Response:
    return api.get(f"/v1/connections/{c['id']}/proxy/sp-api{path}", **kw)


def test_only_amazons_own_headers_come_back_and_an_html_answer_cannot_run(served, amazon):
    amazon.headers = {
        **HOSTILE_ANSWER_HEADERS,
        "Content-Type": "text/html",
        "x-amzn-RequestId": "req-1",
        "x-amz-rid": "rid-1",
    }
    amazon.body = b"<script>alert(document.cookie)</script>"
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon)
        answer = proxied(api, c)
    assert answer.status_code == 200
    assert answer.headers["x-amzn-requestid"] == "req-1"
    assert answer.headers["x-amz-rid"] == "rid-1"
    for name in HOSTILE_ANSWER_HEADERS:
        assert answer.headers.get(name) in (None, "uvicorn"), name  # server: ours, if any
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]


def test_only_the_callers_content_headers_and_x_amz_headers_go_to_amazon(served, amazon):
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon)
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
    [(_, headers)] = amazon.seen
    sent = {k.lower() for k in headers}
    assert {"accept", "x-amz-date", "x-amz-access-token", "user-agent"} <= sent
    assert not sent & {"origin", "referer", "x-real-ip", "x-amz-hop", "content-length"}


def test_amazons_silence_is_a_503_with_its_line_in_the_access_log(served, amazon):
    amazon.delay = 3.0
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon, timeout=0.5)
        answer = proxied(api, c)
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "AMAZON_UNAVAILABLE"
        assert answer.headers["retry-after"]
        served.services.credentials.access_log.flush()
        [line] = [
            e
            for e in api.get(f"/v1/connections/{c['id']}/access_log").json()["data"]
            if e["kind"] == "proxy"
        ]
    assert (line["status"], line["outcome"]) == (504, "unreachable")


def test_repeated_403s_cost_one_refresh_and_one_check_a_minute(served, amazon, lwa):
    amazon.status, amazon.body = 403, b'{"errors": [{"code": "Unauthorized"}]}'
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon)
        assert token(api, c["id"]).status_code == 201  # the access token the calls use
        before = lwa.refreshes
        answers = [proxied(api, c) for _ in range(20)]
    assert [a.status_code for a in answers] == [403] * 20  # a missing role, not a revocation
    assert lwa.refreshes - before == 1
    # 20 calls, one retry with the fresh token, one Sellers check
    assert len(amazon.seen) == 22
    assert sum(path.startswith("/sellers/") for path, _ in amazon.seen) == 1


def test_a_get_announcing_a_body_it_does_not_send_is_forwarded_without_one(served, amazon):
    """`Content-Length: 5` on a GET with no body: Amazon gets the GET without the header
    (it was forwarded, and the client refused to send fewer bytes than announced: a 500)."""
    with served.client(scopes=SCOPES) as api:
        c = active(api)
        through(served, amazon)
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
    [(_, headers)] = amazon.seen
    assert "content-length" not in {k.lower() for k in headers}

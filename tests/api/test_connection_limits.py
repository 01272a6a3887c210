"""The HTTP connection's own limits (service.api.edge.http), on the real server: a huge or
numerous header is refused before it is read (it was read, 64 MB of it, and answered 200
without a key), and connections that stay idle or trickle their head or body are closed
(they were kept open for ever), while everyone else is still served."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from service.api.edge import http as limits


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=15)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return out


@pytest.fixture
def short_timeouts() -> Iterator[None]:
    saved = limits.LimitedHttpToolsProtocol.limits
    limits.configure(limits.HttpLimits(head_timeout=1.0, body_timeout=1.0))
    yield
    limits.configure(saved)


def test_a_64_mb_header_is_refused_before_it_is_read(live_sqlite):
    sock = _connect(live_sqlite.url)
    sock.sendall(b"GET /v1/connections HTTP/1.1\r\nhost: x\r\nx-filler: ")
    sent, chunk = 0, b"a" * 65536
    try:
        while sent < 64 * 1024 * 1024:
            sock.sendall(chunk)
            sent += len(chunk)
        sock.sendall(b"\r\n\r\n")
        answer = _read_all(sock)
    except (ConnectionResetError, BrokenPipeError):
        answer = b""
    sock.close()
    # Either the 431 arrived, or the server closed while the client was still sending.
    assert answer.startswith(b"HTTP/1.1 431") or (not answer and sent < 64 * 1024 * 1024)
    assert httpx.get(f"{live_sqlite.url}/healthz").status_code == 200


@pytest.mark.parametrize(
    "head",
    [
        b"GET /v1/connections HTTP/1.1\r\nhost: x\r\n"
        + b"".join(b"x-h%d: 1\r\n" % i for i in range(150))
        + b"\r\n",
        b"GET /v1/connections?q=" + b"a" * 20_000 + b" HTTP/1.1\r\nhost: x\r\n\r\n",
        b"GET /v1/connections HTTP/1.1\r\nhost: x\r\ncookie: " + b"c" * 17_000 + b"\r\n\r\n",
    ],
    ids=["150 headers", "20 kB request line", "17 kB header"],
)
def test_too_many_or_too_large_headers_are_a_431_problem(live_sqlite, head):
    sock = _connect(live_sqlite.url)
    sock.sendall(head)
    answer = _read_all(sock)
    sock.close()
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 431 Request headers too large", answer[:300]
    assert b"application/problem+json" in rest and b'"code": "HEADERS_TOO_LARGE"' in rest


@pytest.mark.parametrize(
    "pieces",
    [
        [],  # connects and says nothing
        [b"GET /healthz HTTP/1.1\r\n"] + [b"x-slow: 1\r\n"] * 40,  # trickles its head
        [b"POST /v1/connections HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n"]
        + [b"{"] * 40,  # trickles its body
    ],
    ids=["idle", "slow head", "slow body"],
)
def test_idle_and_trickling_connections_are_closed(live_sqlite, short_timeouts, pieces):
    sock = _connect(live_sqlite.url)
    started = time.monotonic()
    closed_after = None
    try:
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(0.25)
        answer = _read_all(sock)
    except (ConnectionResetError, BrokenPipeError):
        answer = b""
    closed_after = time.monotonic() - started
    sock.close()
    # 1 s allowed; generous bound for a loaded machine, far below "for ever" (40 pieces
    # at 0.25 s would keep a connection 10 s busy).
    assert closed_after < 8, closed_after
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert httpx.get(f"{live_sqlite.url}/healthz").status_code == 200


def test_a_prompt_client_on_a_kept_alive_connection_is_served_throughout(live_sqlite):
    with httpx.Client(base_url=live_sqlite.url) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
            time.sleep(0.2)

"""The sandbox Amazon served by uvicorn on a free loopback port, for integration tests, and
the owner's browser meeting its consent pages."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import uvicorn
from litestar import Litestar

from service.sandbox import build_sandbox_router

CALLBACK = "https://connections.example/v1/oauth/amazon/callback"
ADS_CALLBACK = "https://connections.example/v1/oauth/amazon-ads/callback"
STATE = "con_7f3a9c.signature"
# The owner's browser: one client, so each test does not build a fresh TLS context.
browser = httpx.Client(follow_redirects=False)


@contextmanager
def sandbox_amazon() -> Iterator[str]:
    """The sandbox's base URL while it runs."""
    app = Litestar(route_handlers=[build_sandbox_router(CALLBACK, ADS_CALLBACK)])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "sandbox did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def redirect_of(url: str) -> dict[str, str]:
    """The query of the redirect back to the service that the page at `url` answers."""
    response = browser.get(url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith((CALLBACK, ADS_CALLBACK))
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}

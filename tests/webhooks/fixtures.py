"""Webhook test fixtures: the service with the webhook routes mounted, and a real receiver.

`start_webhook_service` is `start_service` plus the webhook routes and `services.webhooks`,
the way the container and app will wire them. `Receiver` is a threaded http.server on
loopback that records each request and answers from a script.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import LiveService, start_service


def start_webhook_service(database_url: str, **overrides: str) -> LiveService:
    """The service as it runs: webhooks are part of every build."""
    return start_service(database_url, **overrides)


def stop_webhook_service(live: LiveService) -> None:
    live.stop()


@pytest.fixture
def hooked(database_url: str) -> Iterator[LiveService]:
    """The service with webhooks, once per store; private receivers allowed (loopback)."""
    live = start_webhook_service(database_url, WEBHOOK_ALLOW_PRIVATE="1")
    yield live
    stop_webhook_service(live)


@pytest.fixture
def hooked_sqlite(sqlite_url: str) -> Iterator[LiveService]:
    live = start_webhook_service(sqlite_url, WEBHOOK_ALLOW_PRIVATE="1")
    yield live
    stop_webhook_service(live)


@pytest.fixture
def hooked_postgres(pg_schema_url: str) -> Iterator[LiveService]:
    live = start_webhook_service(pg_schema_url, WEBHOOK_ALLOW_PRIVATE="1")
    yield live
    stop_webhook_service(live)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The service with the SSRF guard on (WEBHOOK_ALLOW_PRIVATE unset), shared by a
    module's tests: give each test its own tenant."""
    folder = tmp_path_factory.mktemp("guarded")
    live = start_webhook_service(f"sqlite:///{folder}/connections.db")
    yield live
    stop_webhook_service(live)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each request with the next scripted (status, headers, body), then with
    `otherwise` (200 unless a test sets it: an endpoint that is down until it is fixed)."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    delay: float = 0.0
    slow_paths: dict[str, float] = field(default_factory=dict)  # path → seconds to stall
    otherwise: tuple[int, dict[str, str], str] = (200, {}, "ok")
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, status: int, body: str = "", **headers: str) -> None:
        self.script.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, body))

    def next_answer(self) -> tuple[int, dict[str, str], str]:
        with self.lock:
            return self.script.pop(0) if self.script else self.otherwise

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with scripted_receiver() as state:
        yield state


@contextmanager
def scripted_receiver() -> Iterator[Receiver]:
    """The receiver outside a fixture (a module-scoped story holds one open)."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            with state.lock:
                state.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            time.sleep(state.slow_paths.get(self.path, state.delay))
            status, headers, text = state.next_answer()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(text.encode())))
            self.end_headers()
            self.wfile.write(text.encode())

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # dispatchers open dozens of connections at once
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

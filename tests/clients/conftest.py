"""The clients against the service as a user runs it: `connections serve` in its own
process (sandbox Amazon, embedded worker delivering webhooks to loopback), started once per
run: tests/conftest.py keeps this package on one worker."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import SECRET_KEY, free_port
from tests.faults.process import CONNECTIONS, ServiceProcess

SCOPES = [
    "connections:read",
    "connections:write",
    "webhooks:manage",
    "credentials:read",
    "proxy:use",
]


@dataclass
class Sandbox:
    url: str
    api_key: str
    process: ServiceProcess

    def env(self) -> dict[str, str]:
        """What the README examples and the TypeScript tests read."""
        return {"CONNECTIONS_URL": self.url, "CONNECTIONS_API_KEY": self.api_key}


@pytest.fixture(scope="session")
def sandbox(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_file: Path
) -> Iterator[Sandbox]:
    folder = tmp_path_factory.mktemp("clients")
    database = folder / "connections.db"
    shutil.copyfile(migrated_sqlite_file, database)
    database_url = f"sqlite:///{database}"
    process = ServiceProcess(database_url, folder / "serve").start()
    try:
        made = subprocess.run(
            [
                CONNECTIONS,
                "api-keys",
                "create",
                "--tenant",
                "clients",
                *(arg for scope in SCOPES for arg in ("--scope", scope)),
            ],
            env={
                "PATH": os.environ["PATH"],
                "DATABASE_URL": database_url,
                "SECRET_KEY": SECRET_KEY,
                "SANDBOX": "1",
            },
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        yield Sandbox(process.url, made.stdout.strip(), process)
    finally:
        process.close()


def play_owner(consent_url: str, outcome: str = "approve") -> httpx.Response:
    """The owner on the sandbox's consent page, then back at the service's callback."""
    page = httpx.get(f"{consent_url}&sandbox_outcome={outcome}", timeout=30)
    assert page.status_code in (302, 303), page.text
    return httpx.get(page.headers["location"], headers={"Accept": "application/json"}, timeout=30)


@dataclass
class Delivery:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """A webhook receiver on loopback: keeps each delivery's bytes and headers as sent."""

    base: str
    deliveries: list[Delivery] = field(default_factory=list)

    def url(self, name: str) -> str:
        """An address of its own for one endpoint (each signs with its own secret)."""
        return f"{self.base}/{name}"

    def wait_for(self, name: str, text: str, timeout: float = 30) -> Delivery:
        """The first delivery to `name` whose body holds `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for delivery in list(self.deliveries):
                if delivery.path == f"/hooks/{name}" and text.encode() in delivery.body:
                    return delivery
            time.sleep(0.05)
        raise AssertionError(f"no such delivery in {timeout}s; got {len(self.deliveries)}")


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    port = free_port()
    found = Receiver(f"http://127.0.0.1:{port}/hooks")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            found.deliveries.append(Delivery(self.path, body, headers))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()

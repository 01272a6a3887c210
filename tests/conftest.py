"""Shared fixtures: real stores (SQLite file, PostgreSQL schema per test) and a real server.

PostgreSQL comes from TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
When it cannot be reached the PostgreSQL cases are skipped locally and fail under CI=true.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn

from adapters.clock import SettableClock
from service.api.edge.http import LimitedHttpToolsProtocol
from service.app import create_app
from service.container import Services, build
from service.settings import Settings

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ALL_SCOPES = ["connections:read", "connections:write", "webhooks:manage", "audit:read", "admin"]
SECRET_KEY = "test-secret-key-0123456789abcdef-0123456789"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            pass
    except psycopg.Error as e:
        problem = str(e).strip().splitlines()[0]
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return PG_URL


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """A database URL whose event store and tables live in a fresh schema, dropped after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{sep}schema={schema}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once per store."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/connections.db"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/connections.db"


_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The screenshots the browser tests took in this run (tests/browser), to look at."""
    root = Path(__file__).resolve().parents[1]
    taken = sorted(
        path
        for folder in (root / "var" / "screenshots", root / "docs" / "screenshots")
        if folder.is_dir()
        for path in folder.glob("*.png")
        if path.stat().st_mtime >= _STARTED
    )
    if taken:
        terminalreporter.section("screenshots")
        for path in taken:
            terminalreporter.write_line(str(path.relative_to(root)))


def read_files_elsewhere(paths: list[Path]) -> bytes:
    """The bytes of `paths`, read by a child process. Closing any descriptor of a SQLite
    file drops every POSIX lock this process holds on it (SQLite's own connections
    included): another process's SQLite then sees no reader, checkpoints and deletes the
    WAL under the live connections here, which go on reading a stale copy."""
    import subprocess
    import sys

    read = "import sys; [sys.stdout.buffer.write(open(p, 'rb').read()) for p in sys.argv[1:]]"
    return subprocess.run(
        [sys.executable, "-c", read, *map(str, paths)], capture_output=True, check=True
    ).stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_settings(database_url: str, port: int = 8000, **overrides: str) -> Settings:
    env = {
        "DATABASE_URL": database_url,
        "SANDBOX": "1",
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "RUN_WORKER": "0",
        **overrides,
    }
    return Settings.from_env(env)


@dataclass
class LiveService:
    """A real server on loopback, its parts, its settable clock, and API clients."""

    url: str
    services: Services
    clock: SettableClock
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, tenant: str = "tenant_a", scopes: list[str] | None = None) -> httpx.Client:
        key = self.services.api_keys.create(tenant, scopes or ALL_SCOPES).secret
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.services.close()


def start_service(database_url: str, **overrides: str) -> LiveService:
    port = free_port()
    settings = make_settings(database_url, port, **overrides)
    clock = SettableClock(START)
    services = build(settings, clock=clock)
    app = create_app(services)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        http=LimitedHttpToolsProtocol,  # as `connections serve` runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    return LiveService(f"http://127.0.0.1:{port}", services, clock, server, thread)


@pytest.fixture
def live(database_url: str) -> Iterator[LiveService]:
    """The service over real HTTP, once on SQLite and once on PostgreSQL."""
    service = start_service(database_url)
    yield service
    service.stop()


@pytest.fixture
def live_sqlite(sqlite_url: str) -> Iterator[LiveService]:
    service = start_service(sqlite_url)
    yield service
    service.stop()


@pytest.fixture
def api(live: LiveService) -> Iterator[httpx.Client]:
    with live.client() as client:
        yield client


def new_connection(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {
        "owner_email": "owner@example.com",
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        **fields,
    }
    response = api.post("/v1/connections", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def consent(
    api: httpx.Client, consent_url: str, outcome: str = "approve", **params: str
) -> httpx.Response:
    """Plays the owner in the sandbox: picks an outcome on Amazon's consent page and
    follows the redirect back to the service's callback."""
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    page = httpx.get(f"{consent_url}&sandbox_outcome={outcome}{extra}", timeout=30)
    assert page.status_code in (302, 303), page.text
    return httpx.get(page.headers["location"], headers={"Accept": "application/json"}, timeout=30)


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """`connections ARGS…` in its own process, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        env={
            "DATABASE_URL": database_url,
            "SANDBOX": "1",
            "SECRET_KEY": "x" * 40,
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
    )

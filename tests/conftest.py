"""Shared fixtures: real stores (a SQLite file, a PostgreSQL schema per test) and a real server.

PostgreSQL comes from TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
When it cannot be reached the PostgreSQL cases are skipped locally and fail under CI=true.
Under `pytest -n N` (pytest-xdist, as `make test` runs) each worker has a database of its
own beside it (`<name>_gw0`, ...), so what a test does to its database's connections
(tests/store/test_stores.py ends them) never reaches another worker's.

A test's store is at the newest migration when it starts: migrating costs 0.2 s on SQLite
and over a second on PostgreSQL, so the suite migrates once per run and each test gets a
copy (the file, or the schema replayed from `pg_dump`). The tests of migrating itself ask
for `empty_database_url` or `empty_pg_schema_url`.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
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
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import uvicorn

from adapters.clock import SettableClock
from service.api.edge.http import LimitedHttpToolsProtocol
from service.app import create_app
from service.container import Services, build
from service.settings import Settings


def _worker_database(url: str, worker: str | None) -> str:
    """`url` with the xdist worker's name appended to its database's (unchanged outside xdist)."""
    if not worker:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path or '/postgres'}_{worker}"))


SHARED_PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_URL = _worker_database(SHARED_PG_URL, os.environ.get("PYTEST_XDIST_WORKER"))
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ALL_SCOPES = ["connections:read", "connections:write", "webhooks:manage", "audit:read", "admin"]
SECRET_KEY = "test-secret-key-0123456789abcdef-0123456789"


def _share_the_default_tls_context() -> None:
    """httpx loads certifi's CA bundle into a new SSL context for every client it makes
    (0.13 s each; the service makes two per start, the tests several per test). Contexts
    are made to be shared: one default context serves every client of this process. Only
    speed is at stake if a newer httpx moves the function: then each client loads its own."""
    try:
        from httpx._transports import default as transports
    except ImportError:  # pragma: no cover
        return
    create = getattr(transports, "create_ssl_context", None)
    if create is None:  # pragma: no cover
        return
    made: dict[tuple, Any] = {}
    lock = threading.Lock()

    def create_once(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is not True or cert is not None:
            return create(verify=verify, cert=cert, trust_env=trust_env)
        where = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        key = (trust_env, *where) if trust_env else (False,)
        with lock:
            if key not in made:
                made[key] = create(verify=True, trust_env=trust_env)
            return made[key]

    transports.create_ssl_context = create_once


_share_the_default_tls_context()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    try:
        if PG_URL != SHARED_PG_URL:
            _create_database(SHARED_PG_URL, PG_URL)
        with psycopg.connect(PG_URL, connect_timeout=3):
            pass
    except psycopg.Error as e:
        problem = str(e).strip().splitlines()[0]
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return PG_URL


def _create_database(shared: str, own: str) -> None:
    name = urlsplit(own).path.lstrip("/")
    with psycopg.connect(shared, autocommit=True, connect_timeout=3) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _schema_url(postgres_url: str, schema: str) -> str:
    sep = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{sep}schema={schema}"


_SCHEMA = "__schema__"  # where the migrated schema's name stands in its script


@pytest.fixture(scope="session")
def migrated_schema_script(postgres_url: str) -> str | None:
    """SQL that makes a schema named `_SCHEMA` at the newest migration, with the event
    store's tables: one schema migrated once, dumped (`pg_dump`). None where pg_dump is
    missing or cannot dump this server: each test then migrates its own schema."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        build(make_settings(_schema_url(postgres_url, schema))).close()
        dump = ["pg_dump", "--schema", schema, "--inserts", "--no-owner", "--no-privileges"]
        try:
            dumped = subprocess.run(
                [*dump, "--dbname", postgres_url],
                capture_output=True,
                text=True,
                timeout=60,
            )
        except OSError:
            return None
        if dumped.returncode != 0:
            return None
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    # psql's own commands (\restrict) are not SQL; the schema's name is random, so it
    # stands only where the schema is meant.
    script = "\n".join(line for line in dumped.stdout.splitlines() if not line.startswith("\\"))
    return script.replace(schema, _SCHEMA)


@pytest.fixture
def empty_pg_schema_url(postgres_url: str) -> Iterator[str]:
    """A database URL whose event store and tables will live in a new, empty schema
    (nothing migrated yet), dropped after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield _schema_url(postgres_url, schema)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _migrated_schema(postgres_url: str, script: str | None) -> str:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        if script is None:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        else:
            conn.execute(script.replace(_SCHEMA, schema))
    return schema


def _drop_schema(postgres_url: str, schema: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_schema_url(postgres_url: str, migrated_schema_script: str | None) -> Iterator[str]:
    """A database URL whose event store and tables live in a fresh schema at the newest
    migration, dropped after."""
    schema = _migrated_schema(postgres_url, migrated_schema_script)
    yield _schema_url(postgres_url, schema)
    _drop_schema(postgres_url, schema)


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest migration, with the event store's tables: copied for
    each test that wants one."""
    folder = tmp_path_factory.mktemp("migrated")
    build(make_settings(f"sqlite:///{folder}/built.db")).close()
    template = folder / "connections.db"
    with sqlite3.connect(folder / "built.db") as built, sqlite3.connect(template) as copy:
        built.backup(copy)  # one file, whatever the write-ahead log still held
    built.close()
    copy.close()
    return template


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once per store, on a store at the newest migration."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    migrated_sqlite_file: Path,
) -> Iterator[str]:
    """A store at the newest migration shared by a module's tests, once per store: for a
    server per module whose tests each work on connections of their own."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module") / "connections.db"
        shutil.copyfile(migrated_sqlite_file, path)
        yield f"sqlite:///{path}"
        return
    postgres_url = request.getfixturevalue("postgres_url")
    schema = _migrated_schema(postgres_url, request.getfixturevalue("migrated_schema_script"))
    yield _schema_url(postgres_url, schema)
    _drop_schema(postgres_url, schema)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once per store, on a store nothing has migrated yet."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/connections.db"
    return request.getfixturevalue("empty_pg_schema_url")


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite_file: Path) -> str:
    path = tmp_path / "connections.db"
    shutil.copyfile(migrated_sqlite_file, path)
    return f"sqlite:///{path}"


# `make test` runs on three workers, each module whole on one of them (--dist loadfile). The
# fault tests are one unit: each drives a server process under load, and two at once on two
# cores would time each other out; so is the browser (one Chromium), and so are the client
# libraries' tests (one `connections serve` for the run, tests/clients). The faults, the longest
# unit by far, go first, so that the other workers take everything else meanwhile.
_ONE_UNIT = ("tests/faults/", "tests/browser/", "tests/clients/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith("tests/faults/"))


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: unknown with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ByModuleFaultsTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            unit = next((folder for folder in _ONE_UNIT if nodeid.startswith(folder)), None)
            return unit or super()._split_scope(nodeid)

    return ByModuleFaultsTogether(config, log)


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
    # The socket is bound here and handed to uvicorn, so no other test's server can take
    # the port between choosing it and listening on it (seen under xdist as EADDRINUSE).
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
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
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
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
            # The service's own: personal values open only with the key that sealed them.
            "SECRET_KEY": SECRET_KEY,
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
    )

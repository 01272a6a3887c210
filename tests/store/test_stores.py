"""The event store and the read model, the same cases on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from uuid import uuid4

import psycopg
import pytest

from adapters.clock import SettableClock
from adapters.tables.read_model import ListQuery, ViewRow
from domain.connection import Connection, Context
from domain.exceptions import NotFound, VersionConflict
from domain.permissions import REQUIRED_SC_PERMISSIONS
from service.container import Services, build
from tests.conftest import START, make_settings, read_files_elsewhere

WINDOW = timedelta(minutes=15)


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    services = build(make_settings(database_url), clock=SettableClock(START))
    yield services
    services.close()


def at(hours: float) -> Context:
    return Context(actor="user_1", at=START + timedelta(hours=hours), request_id="req_1")


def invite(hours: float = 0, tenant: str = "tenant_a", **fields: Any) -> Connection:
    spec = {
        "owner_email": "owner@example.com",
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        **fields,
    }
    return Connection.invite(at(hours), tenant_id=tenant, **spec)


def authorize(c: Connection, hours: float, partner: str, token: str = "gAAAA-token") -> None:
    c.start_authorization(at(hours), "attempt", at(hours).at + WINDOW)
    c.complete_authorization(
        at(hours + 0.1), selling_partner_id=partner, refresh_token_encrypted=token
    )


def observable(connection: Connection) -> dict[str, Any]:
    return {k: v for k, v in vars(connection).items() if k != "_pending_events"}


# ------------------------------------------------------------------- event store


def test_saved_connection_loads_back_equal_at_every_version(services: Services):
    app = services.app
    connection = invite()
    app.store(connection)
    authorize(connection, 1, "A2SELLER")
    app.store(connection)
    as_authorized = observable(connection)
    connection.invite_seller_central_user(at(2), "sc@integrator.example")
    connection.confirm_seller_central_user(at(3), dict(REQUIRED_SC_PERMISSIONS))
    connection.activate(at(3))
    app.store(connection)

    loaded = app.load("tenant_a", str(connection.id))
    assert observable(loaded) == observable(connection)
    assert loaded.state == "active" and loaded.version == 6
    assert observable(app.load("tenant_a", str(connection.id), version=3)) == as_authorized

    app.take_snapshot(connection.id)
    assert observable(app.load("tenant_a", str(connection.id))) == observable(connection)


def test_another_tenants_or_an_unknown_connection_is_not_found(services: Services):
    connection = invite()
    services.app.store(connection)
    for tenant, connection_id in (
        ("tenant_b", str(connection.id)),
        ("tenant_a", str(uuid4())),
        ("tenant_a", "not-a-uuid"),
    ):
        with pytest.raises(NotFound):
            services.app.load(tenant, connection_id)


def test_concurrent_commands_on_one_connection_keep_exactly_one(services: Services):
    app = services.app
    connection = invite()
    app.store(connection)
    first = app.load("tenant_a", str(connection.id))
    second = app.load("tenant_a", str(connection.id))

    first.start_authorization(at(1), "attempt", at(1).at + WINDOW)
    app.store(first)
    second.disconnect(at(1), "integrator_request")
    with pytest.raises(VersionConflict) as lost:
        app.store(second)

    assert lost.value.code == "VERSION_CONFLICT"
    events = list(app.events.get(connection.id))
    assert [e.originator_version for e in events] == [1, 2]
    assert isinstance(events[1], Connection.AuthorizationStarted)
    assert app.load("tenant_a", str(connection.id)).state == "owner_pending"


# --------------------------------------------------------------------- read model


@pytest.fixture
def fleet(services: Services) -> dict[str, Connection]:
    """Connections of two tenants, created an hour apart, in several states."""
    c = {
        "invited_na": invite(0, owner_email="ana@example.com"),
        "authorized_eu": invite(
            1, region="eu", marketplace_ids=["A1PA6795UKMFR9"], owner_email="bo@example.com"
        ),
        "active_na": invite(2, account_type="vendor", owner_email="bo@example.com"),
        "disconnected_fe": invite(
            3, region="fe", marketplace_ids=["A1VC38T7YXB528"], owner_email="ana@example.com"
        ),
        "other_tenant": invite(4, tenant="tenant_b", owner_email="ana@example.com"),
    }
    authorize(c["authorized_eu"], 10, "A1PARTNER")
    authorize(c["active_na"], 11, "A2PARTNER")
    c["active_na"].activate(at(12))
    c["disconnected_fe"].disconnect(at(13), "integrator_request")
    authorize(c["other_tenant"], 14, "A1PARTNER")
    for connection in c.values():
        services.app.store(connection)
    return c


def listed(services: Services, **filters: Any) -> list[str]:
    return [row.id for row in services.view.list(ListQuery(tenant_id="tenant_a", **filters))]


def ids(fleet: dict[str, Connection], *names: str) -> list[str]:
    return [str(fleet[n].id) for n in names]


def test_read_model_answers_each_filter_newest_first(services: Services, fleet):
    services.projection.catch_up()

    assert listed(services) == ids(
        fleet, "disconnected_fe", "active_na", "authorized_eu", "invited_na"
    )
    assert listed(services, state="active") == ids(fleet, "active_na")
    assert listed(services, state="api_authorized") == ids(fleet, "authorized_eu")
    assert listed(services, region="na") == ids(fleet, "active_na", "invited_na")
    assert listed(services, selling_partner_id="A1PARTNER") == ids(fleet, "authorized_eu")
    assert listed(services, owner_email="ana@example.com") == ids(
        fleet, "disconnected_fe", "invited_na"
    )
    assert listed(services, region="na", owner_email="bo@example.com") == ids(fleet, "active_na")
    assert listed(services, state="owner_pending") == []


def test_read_model_rows_carry_the_connection_as_of_its_last_event(services: Services, fleet):
    services.projection.catch_up()
    row = services.view.get("tenant_a", str(fleet["active_na"].id))
    assert (row.state, row.version, row.selling_partner_id) == ("active", 4, "A2PARTNER")
    assert observable(services.projection.from_row(row)) == observable(fleet["active_na"])
    assert services.view.get("tenant_b", str(fleet["active_na"].id)) is None


def test_cursor_pagination_visits_every_connection_once_newest_first(services: Services):
    # Two connections share a creation instant: the cursor must still neither skip nor repeat.
    created = [invite(h) for h in (0, 1, 2, 2, 3)]
    for connection in created:
        services.app.store(connection)
    services.projection.catch_up()

    pages: list[list[str]] = []
    cursor = None
    while True:
        rows = services.view.list(ListQuery(tenant_id="tenant_a", limit=2, starting_after=cursor))
        if not rows:
            break
        pages.append([r.id for r in rows])
        cursor = (rows[-1].created_at, rows[-1].id)

    newest_first = sorted(created, key=lambda c: (c.created_on, str(c.id)), reverse=True)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == [str(c.id) for c in newest_first]


def all_rows(services: Services) -> list[ViewRow]:
    return [
        row
        for tenant in ("tenant_a", "tenant_b")
        for row in services.view.list(ListQuery(tenant_id=tenant, limit=100))
    ]


def test_rebuilding_the_read_model_gives_identical_rows(services: Services, fleet):
    services.projection.catch_up()
    before = all_rows(services)
    assert len(before) == 5
    assert services.projection.catch_up() == 0  # already up to date: nothing applied twice

    applied = services.projection.rebuild()

    assert applied == sum(c.version for c in fleet.values())
    assert all_rows(services) == before


def test_read_model_follows_later_events(services: Services, fleet):
    services.projection.catch_up()
    connection = services.app.load("tenant_a", str(fleet["active_na"].id))
    connection.mark_reauth_due(at(20))
    services.app.store(connection)

    services.projection.catch_up()

    assert listed(services, state="reauth_due") == ids(fleet, "active_na")
    assert listed(services, state="active") == []


# ------------------------------------------------------------------ secrets at rest


def raw_database(database_url: str) -> bytes:
    """Every byte the database holds for this service: the SQLite files (with the WAL),
    or every row of every table in the PostgreSQL schema."""
    if database_url.startswith("sqlite:///"):
        db = Path(database_url.removeprefix("sqlite:///"))
        return read_files_elsewhere(sorted(db.parent.glob(db.name + "*")))
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    schema = query.pop("schema")[0]
    conninfo = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    chunks: list[bytes] = []
    with psycopg.connect(conninfo) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
        assert tables
        for (table,) in tables:
            for row in conn.execute(f'SELECT * FROM "{schema}"."{table}"'):
                # bytea (the event state) as its bytes: its text cast would be hex.
                chunks.extend(
                    bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row
                )
    return b"\n".join(chunks)


def test_refresh_tokens_are_only_stored_encrypted(services: Services, database_url: str):
    box = services.box
    plain = {name: f"Atzr|{name}-{secrets.token_urlsafe(32)}" for name in ("sp", "ads", "new")}
    cipher = {name: box.encrypt(token) for name, token in plain.items()}

    connection = invite(account_type="vendor", requires_advertising=True)
    authorize(connection, 1, "A2SELLER", token=cipher["sp"])
    connection.start_advertising_authorization(at(2), "ads_attempt", at(2).at + WINDOW)
    connection.complete_advertising_authorization(
        at(2), profile_id="123", refresh_token_encrypted=cipher["ads"]
    )
    connection.activate(at(3))
    connection.mark_reauth_due(at(4))
    connection.complete_reauthorization(
        at(5), selling_partner_id="A2SELLER", refresh_token_encrypted=cipher["new"]
    )
    services.app.store(connection)
    services.app.take_snapshot(connection.id)
    services.projection.catch_up()

    loaded = services.app.load("tenant_a", str(connection.id))
    assert box.decrypt(loaded.refresh_token_encrypted) == plain["new"]
    assert box.decrypt(loaded.ads_refresh_token_encrypted) == plain["ads"]

    raw = raw_database(database_url)
    for name, token in plain.items():
        assert cipher[name].encode() in raw  # we are reading where the tokens are kept
        assert token.encode() not in raw


@pytest.mark.postgres
def test_processes_starting_together_on_a_new_postgresql_database_all_start(empty_pg_schema_url):
    """A deployment starts servers, workers and CLI commands at once; CREATE TABLE IF NOT
    EXISTS races with itself unless they take turns."""
    env = {
        **os.environ,
        "DATABASE_URL": empty_pg_schema_url,
        "SANDBOX": "1",
        "SECRET_KEY": "stores-test-secret-key-0123456789abcdef",
    }
    connections = str(Path(sys.executable).with_name("connections"))
    started = [
        subprocess.Popen(
            [connections, "api-keys", "create", "--tenant", f"t{i}", "--scope", "connections:read"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    results = [p.communicate(timeout=60) for p in started]

    failures = [err[-800:] for p, (_, err) in zip(started, results, strict=True) if p.returncode]
    assert failures == []
    assert all(out.startswith("sk_") for out, _ in results)


@pytest.mark.postgres
def test_connections_the_server_dropped_are_replaced_without_an_error(pg_schema_url):
    """The pool hands out a connection only after seeing that it is still open, so a
    PostgreSQL restart or an idle timeout never reaches a caller as an error."""
    services = build(make_settings(pg_schema_url))
    try:
        key = services.api_keys.create("tenant_a", ["connections:read"]).secret
        assert services.api_keys.authenticate(key) is not None  # the pool is open and warm
        url = pg_schema_url.split("?")[0]
        with psycopg.connect(url, autocommit=True) as admin:
            dropped = [
                pid
                for (pid,) in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'idle' "
                    "AND backend_type = 'client backend'"
                )
            ]
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid", [dropped])
            deadline = time.monotonic() + 10
            while admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [dropped]
            ).fetchone()[0]:
                assert time.monotonic() < deadline
                time.sleep(0.02)
        assert dropped

        for _ in range(25):  # more than the pool holds: every dropped one is met
            assert services.api_keys.authenticate(key) is not None
    finally:
        services.close()

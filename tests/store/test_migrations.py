"""Versioned migrations of the service's own tables, on each store: what `connections
migrate` applies and lists, who may start on an unmigrated database, several processes
migrating at once, and a failed migration leaving the database as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from adapters import migrations
from adapters.eventstore import eventsourcing_env
from tests.conftest import free_port

CONNECTIONS = str(Path(sys.executable).with_name("connections"))
REAL_AMAZON = {  # not sandbox mode: MIGRATE_ON_START is off unless set
    "SANDBOX": "0",
    "SPAPI_APPLICATION_ID": "amzn1.sp.solution.test",
    "LWA_CLIENT_ID": "amzn1.application-oa2-client.test",
    "LWA_CLIENT_SECRET": "lwa-client-secret-for-tests",
    "SECRET_KEY": "migrations-test-secret-key-0123456789",
}


def run(database_url: str, *args: str, timeout: float = 60, **env: str):
    full = {**os.environ, "DATABASE_URL": database_url, **REAL_AMAZON, **env}
    return subprocess.run(
        [CONNECTIONS, *args], env=full, capture_output=True, text=True, timeout=timeout
    )


def tables(database_url: str) -> set[str]:
    if database_url.startswith("sqlite"):
        import sqlite3

        path = database_url.removeprefix("sqlite:///")
        if not Path(path).exists():
            return set()
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {name for (name,) in rows}
    base, _, schema = database_url.partition("?schema=")
    with psycopg.connect(base) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        )
        return {name for (name,) in rows}


def test_the_migrations_form_one_numbered_line():
    """Two branches that each added 000N must renumber one of them before landing."""
    assert len(migrations.heads()) == 1, f"several heads: {migrations.heads()}"
    ordered = migrations.revisions()
    assert ordered[:2] == ["0001", "0002"]
    assert ordered == [f"{n:04d}" for n in range(1, len(ordered) + 1)], ordered


@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "0"]])
def test_serve_and_worker_refuse_an_unmigrated_database_in_one_line(empty_database_url, command):
    if command[0] == "serve":
        command = ["serve", "--port", str(free_port())]
    done = run(empty_database_url, *command)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "not migrated" in lines[0] and "connections migrate" in lines[0]
    assert "MIGRATE_ON_START=1" in lines[0]
    assert not {"api_keys", "connections_view", "alembic_version"} & tables(empty_database_url)


def test_migrate_applies_what_is_pending_and_status_lists_it(empty_database_url):
    before = run(empty_database_url, "migrate", "--status")
    assert before.returncode == 0, before.stderr
    assert [line.split("\t")[:2] for line in before.stdout.splitlines()][:2] == [
        ["0001", "pending"],
        ["0002", "pending"],
    ]

    applied = run(empty_database_url, "migrate")
    assert applied.returncode == 0, applied.stderr
    assert "applied 0001" in applied.stderr and "applied 0002" in applied.stderr
    assert {"api_keys", "connections_view", "webhook_deliveries", "refresh_checks"} <= tables(
        empty_database_url
    )
    after = run(empty_database_url, "migrate", "--status")
    assert all(line.split("\t")[1] == "applied" for line in after.stdout.splitlines())

    again = run(empty_database_url, "migrate")
    assert again.returncode == 0 and "nothing pending" in again.stderr
    # Now migrated, a non-sandbox process starts without MIGRATE_ON_START.
    key = run(empty_database_url, "api-keys", "create", "--tenant", "t", "--scope", "admin")
    assert key.returncode == 0, key.stderr
    assert key.stdout.startswith("sk_")


def test_migrate_on_start_migrates_instead_of_refusing(empty_database_url):
    key = run(
        empty_database_url,
        *("api-keys", "create", "--tenant", "t", "--scope", "admin"),
        MIGRATE_ON_START="1",
    )
    assert key.returncode == 0, key.stderr
    assert migrations.pending(eventsourcing_env(empty_database_url)) == []


def test_processes_migrating_at_once_take_turns_and_apply_each_migration_once(empty_database_url):
    env = {**os.environ, "DATABASE_URL": empty_database_url, **REAL_AMAZON}
    started = [
        subprocess.Popen([CONNECTIONS, "migrate"], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[1] for p in started]

    assert [p.returncode for p in started] == [0, 0, 0, 0], outputs
    assert sum("applied 0001" in out for out in outputs) == 1, outputs
    assert sum("nothing pending" in out for out in outputs) == 3, outputs
    assert migrations.pending(eventsourcing_env(empty_database_url)) == []


@pytest.mark.postgres
def test_a_failed_migration_leaves_the_postgresql_database_as_it_was(empty_pg_schema_url):
    """0002 moves text to timestamptz; a value that is no instant stops it, and nothing of
    it stays: types, data and the recorded version are those of before."""
    env = eventsourcing_env(empty_pg_schema_url)
    migrations.upgrade(env, "0001")
    base, _, schema = empty_pg_schema_url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(
            f'INSERT INTO "{schema}".api_keys (id, tenant_id, name, key_hash, scopes, '
            "created_at, last_used_at) VALUES ('k1', 't', '', 'h', 'admin', "
            "'2026-01-05T09:00:00.000000+00:00', 'yesterday-ish')"
        )
    before = snapshot(base, schema)

    with pytest.raises(Exception, match="timestamp"):
        migrations.upgrade(env)

    assert snapshot(base, schema) == before
    assert [m.applied for m in migrations.status(env)][:2] == [True, False]


def snapshot(base: str, schema: str) -> tuple:
    with psycopg.connect(base) as conn:
        types = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY 1, 2",
            (schema,),
        ).fetchall()
        rows = conn.execute(f'SELECT * FROM "{schema}".api_keys ORDER BY id').fetchall()
        version = conn.execute(f'SELECT version_num FROM "{schema}".alembic_version').fetchall()
    return types, rows, version

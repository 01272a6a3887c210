"""API keys are kept in memory by each server process (no query per request), and a
revocation made anywhere (here: `connections api-keys revoke`, a process of its own)
still shuts the key out of every server at once."""

from __future__ import annotations

import time

import httpx
import psycopg

from tests.conftest import run_cli

SCOPES = ["connections:read", "connections:write"]


def status(url: str, key: str) -> int:
    answer = httpx.get(
        f"{url}/v1/connections", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    return answer.status_code


def first_refusal(url: str, key: str, within: float = 2.0) -> float:
    """Seconds until the key is refused, polling; fails if it never is."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if status(url, key) == 401:
            return time.monotonic() - started
        time.sleep(0.01)
    raise AssertionError(f"{url} still accepts the revoked key after {within} s")


def test_two_processes_cache_a_key_and_both_refuse_it_once_revoked_elsewhere(
    store, service_factory, pg_schema_url
):
    servers = [service_factory(pg_schema_url), service_factory(pg_schema_url)]
    issued = store.api_keys.create("tenant_cache", SCOPES)
    for server in servers:
        assert status(server.url, issued.secret) == 200

    # Served from memory: a change made behind the service's back (no announcement) is
    # not seen, which is what a request without a query means.
    schema = pg_schema_url.rsplit("schema=", 1)[1]
    with psycopg.connect(pg_schema_url.split("?")[0], autocommit=True) as conn:
        conn.execute(
            f'UPDATE "{schema}".api_keys SET revoked_at = now() WHERE id = %s',
            (issued.record.id,),
        )
        for server in servers:
            assert status(server.url, issued.secret) == 200
        conn.execute(
            f'UPDATE "{schema}".api_keys SET revoked_at = NULL WHERE id = %s',
            (issued.record.id,),
        )

    revoked = run_cli(pg_schema_url, "api-keys", "revoke", issued.record.id)
    assert revoked.returncode == 0, revoked.stderr
    for server in servers:
        assert first_refusal(server.url, issued.secret) < 1.0
        assert status(server.url, issued.secret) == 401  # and stays refused

    # Another key of the tenant is unaffected.
    other = store.api_keys.create("tenant_cache", SCOPES).secret
    assert all(status(s.url, other) == 200 for s in servers)


def test_on_sqlite_a_key_revoked_by_another_process_is_refused_on_the_next_request(
    service_factory, tmp_path
):
    url = f"sqlite:///{tmp_path}/keys.db"
    server = service_factory(url)
    scopes = [arg for scope in SCOPES for arg in ("--scope", scope)]
    created = run_cli(url, "api-keys", "create", "--tenant", "tenant_cache", *scopes)
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().split()[-1]
    key_id = created.stderr.split()[1]  # "created key_… for tenant …"
    assert status(server.url, secret) == 200
    assert run_cli(url, "api-keys", "revoke", key_id).returncode == 0
    assert status(server.url, secret) == 401

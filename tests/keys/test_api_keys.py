"""API keys (hashed, shown once, revocable, last use recorded, known scopes only) and the
tenant's registered origins, the only places `return_url` may lead."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import httpx
import pytest

from adapters.tables.instants import iso
from tests.api.helpers import VALID, assert_problem, cli, key
from tests.conftest import LiveService, start_service
from tests.credentials.test_secrets_at_rest import (
    store_contents,
)


@pytest.fixture
def served(sqlite_url: str) -> Iterator[LiveService]:
    live = start_service(sqlite_url, WEBHOOK_ALLOW_PRIVATE="1")
    yield live
    live.stop()


def test_api_keys_are_shown_once_stored_hashed_record_last_use_and_revoke_at_once(served, tmp_path):
    live = served
    created = cli(
        live,
        "api-keys",
        "create",
        "--tenant",
        "t_keys",
        "--scope",
        "connections:read",
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert created.stdout == f"{secret}\n" and secret.startswith("sk_") and len(secret) > 40
    key_id = re.search(r"key_\w+", created.stderr).group(0)
    assert secret not in created.stderr

    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{live.url}/v1/connections", headers=headers).status_code == 200
    listed = cli(live, "api-keys", "list", "--tenant", "t_keys", cwd=tmp_path)
    assert key_id in listed.stdout and secret not in listed.stdout
    [record] = live.services.tables.api_keys("t_keys")
    assert record.last_used_at is not None and record.revoked_at is None

    stored = store_contents(live)
    assert secret not in stored and secret[3:] not in stored
    assert hashlib.sha256(secret.encode()).hexdigest() in stored

    revoked = cli(live, "api-keys", "revoke", key_id, cwd=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert_problem(httpx.get(f"{live.url}/v1/connections", headers=headers), 401, "UNAUTHENTICATED")
    assert live.services.tables.api_keys("t_keys")[0].revoked_at is not None


def test_api_keys_take_only_known_scopes_and_a_revoked_key_is_refused_at_once(live_sqlite):
    keys = live_sqlite.services.api_keys
    for scopes in (["connections:read", "bogus:scope"], []):
        with pytest.raises(ValueError, match="scopes must be among connections:read"):
            keys.create("tenant_a", scopes)
    issued = keys.create("tenant_a", ["connections:read"])
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert httpx.get(f"{live_sqlite.url}/v1/connections", headers=headers).status_code == 200

    assert keys.revoke(issued.record.id) is True
    assert keys.revoke(issued.record.id) is False  # already revoked

    refused = httpx.get(f"{live_sqlite.url}/v1/connections", headers=headers)
    assert refused.status_code == 401
    [listed] = [
        k for k in live_sqlite.services.tables.api_keys("tenant_a") if k.id == issued.record.id
    ]
    assert listed.revoked_at == iso(live_sqlite.clock.now())


# -------------------------------------------------------------------- return_url


def test_return_url_goes_only_to_an_origin_the_tenant_registered(served, tmp_path):
    live = served
    owner = key(live, "t_origins", ["connections:write"])
    url = f"{live.url}/v1/connections"

    def create(return_url: str) -> httpx.Response:
        return httpx.post(url, headers=owner, json={**VALID, "return_url": return_url})

    none = assert_problem(create("https://app.example/done"), 422, "VALIDATION_ERROR")
    assert "no origin" in none["detail"] and none["allowed_origins"] == []

    for origin in ("https://app.example", "http://localhost:3000/"):
        added = cli(live, "tenants", "allow-origin", "--tenant", "t_origins", origin, cwd=tmp_path)
        assert added.returncode == 0, added.stderr
    refused = cli(
        live,
        "tenants",
        "allow-origin",
        "--tenant",
        "t_origins",
        "https://app.example/path",
        cwd=tmp_path,
    )
    assert refused.returncode == 2 and "not an origin" in refused.stderr
    listed = cli(live, "tenants", "list-origins", "--tenant", "t_origins", cwd=tmp_path).stdout
    assert listed.split() == [
        "t_origins",
        "http://localhost:3000",
        "t_origins",
        "https://app.example",
    ]

    for good in (
        "https://app.example/amazon/done?tab=1",
        "https://APP.example:443/x",
        "http://localhost:3000/back",
    ):
        assert create(good).status_code == 201, good
    for bad in (
        "https://evil.example/",
        "http://app.example/",  # other host, other scheme
        "https://app.example:8443/",
        "https://app.example.evil.example/",
        "https://app.example@evil.example/",  # user info: the host is evil.example
        "https://evil.example\\@app.example/",  # a browser goes to evil.example
        "https://evil.example/?next=https://app.example/",
    ):
        problem = assert_problem(create(bad), 422, "VALIDATION_ERROR")
        assert problem["allowed_origins"] == ["http://localhost:3000", "https://app.example"]
        assert "https://app.example" in problem["detail"], bad

    removed = cli(
        live,
        "tenants",
        "remove-origin",
        "--tenant",
        "t_origins",
        "http://localhost:3000",
        cwd=tmp_path,
    )
    assert removed.returncode == 0, removed.stderr
    assert_problem(create("http://localhost:3000/back"), 422, "VALIDATION_ERROR")
    other_tenant = key(live, "t_other", ["connections:write"])
    assert_problem(
        httpx.post(url, headers=other_tenant, json={**VALID, "return_url": "https://app.example/"}),
        422,
        "VALIDATION_ERROR",
    )

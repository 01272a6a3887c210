"""Security: every route's scope (walking the whole route table), tenant isolation on each,
API keys (hashed, shown once, revocable, last use recorded), rate limits per key, the
return_url allow-list, caps on pagination, and no secret anywhere after a full lifecycle:
not in the store, the logs, API responses, webhooks or exports."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.amazon.settings import SANDBOX_LWA_CLIENT_SECRET
from adapters.tables import iso
from domain.errors import REQUIRED_SC_PERMISSIONS
from service.api.auth import scope_of
from service.api.rate_limit import RateLimiter
from service.keys.api_keys import SCOPES
from service.settings import ConfigError, Settings
from tests.conftest import SECRET_KEY, LiveService, start_service
from tests.credentials.test_secrets_at_rest import (
    TENANT,
    Session,
    full_lifecycle,
    read_everything,
    store_contents,
)

pytest_plugins = ["tests.webhooks.fixtures"]  # receiver

PROBLEM_JSON = "application/problem+json"
CONNECTION = {
    "owner_email": "owner@example.com",
    "region": "na",
    "marketplace_ids": ["ATVPDKIKX0DER"],
}
CONNECTIONS = str(Path(sys.executable).parent / "connections")


def problem_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["code"] == code, body
    return body


@pytest.fixture
def served(sqlite_url: str) -> Iterator[LiveService]:
    live = start_service(sqlite_url, WEBHOOK_ALLOW_PRIVATE="1")
    yield live
    live.stop()


def key(live: LiveService, tenant: str, scopes: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {live.services.api_keys.create(tenant, scopes).secret}"}


# ------------------------------------------------------------------ the route table

# Routes anyone may call: ops, reference data, Amazon's redirects (the signed state
# authenticates them), the API docs, the owner's pages (the unguessable token in their path
# is the owner's credential), and the sandbox Amazon, which plays Amazon itself.
PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/v1/state-machine",
    "/v1/errors",
    "/v1/oauth/amazon/callback",
    "/v1/oauth/amazon-ads/callback",
    "/v1/oauth/amazon/login",  # Amazon's Login URI: records nothing, continues to Amazon
}
PUBLIC_PREFIXES = ("/docs", "/connect/", "/sandbox/amazon/", "/sandbox/mail")
LATER = "2030-01-01T00:00:00Z"
BODIES = {  # a valid body per route, so a refusal can only come from the guard
    ("POST", "/v1/connections"): CONNECTION,
    ("POST", "/v1/connections/{connection_id:str}/confirm_seller_central_user"): {
        "permissions": REQUIRED_SC_PERMISSIONS
    },
    ("POST", "/v1/connections/{connection_id:str}/disconnect"): {"reason": "walk"},
    ("POST", "/v1/connections/{connection_id:str}/access_tokens"): {"api": "sp-api"},
    ("POST", "/v1/webhook_endpoints"): {"url": "http://127.0.0.1:9/hooks"},
    ("PATCH", "/v1/webhook_endpoints/{endpoint_id:str}"): {"description": "walk"},
    ("POST", "/v1/webhook_endpoints/{endpoint_id:str}/replay"): {
        "from": "2020-01-01T00:00:00Z",
        "to": LATER,
    },
}


def routes(live: LiveService) -> list[tuple[str, str, Any]]:
    """(method, path template, handler) for every route the app serves."""
    app = live.server.config.app
    found = [
        (method, route.path, handler)
        for route in app.routes
        for handler in route.route_handlers
        for method in sorted(handler.http_methods)
    ]
    assert len(found) > 40
    return found


def call(
    http: httpx.Client, method: str, path: str, ids: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    url = re.sub(r"\{(\w+):\w+\}", lambda m: ids[m.group(1)], path)
    return http.request(
        method,
        url,
        headers=headers,
        json=BODIES.get((method, path), {} if method in ("POST", "PATCH") else None),
    )


def test_every_route_is_public_by_name_or_requires_its_scope_of_the_callers_own_tenant(served):
    live = served
    owner = key(live, "tenant_a", list(SCOPES))
    cid = httpx.post(f"{live.url}/v1/connections", json=CONNECTION, headers=owner).json()["id"]
    endpoint = httpx.post(
        f"{live.url}/v1/webhook_endpoints", headers=owner, json={"url": "http://127.0.0.1:9/hooks"}
    ).json()
    live.services.webhooks.outbox.catch_up()  # the connection's event becomes a delivery
    [delivery] = httpx.get(
        f"{live.url}/v1/webhook_endpoints/{endpoint['id']}/deliveries", headers=owner
    ).json()["data"]
    ids = {
        "connection_id": cid,
        "endpoint_id": endpoint["id"],
        "delivery_id": delivery["id"],
        "api": "sp-api",
        "path": "sellers/v1/marketplaceParticipations",
    }
    single = {scope: key(live, "tenant_a", [scope]) for scope in SCOPES}
    stranger = key(live, "tenant_b", list(SCOPES))  # every scope, another tenant
    http = httpx.Client(base_url=live.url, timeout=30)

    def owned() -> list[Any]:
        return [
            http.get(path, headers=owner).json()
            for path in (f"/v1/connections/{cid}/events", f"/v1/webhook_endpoints/{endpoint['id']}")
        ]

    before = owned()
    scoped = []
    for method, path, handler in routes(live):
        scope = scope_of(handler)
        if scope is None:
            assert method == "OPTIONS" or path in PUBLIC or path.startswith(PUBLIC_PREFIXES), (
                f"{method} {path} has no scope guard and is not listed as public"
            )
            if path in PUBLIC and method == "GET":
                assert call(http, method, path, ids, {}).status_code not in (401, 403), path
            continue
        scoped.append((method, path, scope))
        problem_of(call(http, method, path, ids, {}), 401, "UNAUTHENTICATED")
        for other, headers in single.items():
            if other != scope:
                refused = problem_of(call(http, method, path, ids, headers), 403, "FORBIDDEN")
                assert refused["required_scope"] == scope, (method, path)
        foreign = call(http, method, path, ids, stranger)
        assert foreign.status_code < 500, (method, path, foreign.text)
        if "{" in path:  # naming tenant_a's resource: as absent as a missing one
            problem_of(foreign, 404, "NOT_FOUND")
        else:  # a collection: none of tenant_a's resources in it
            assert not set(ids.values()) & set(re.findall(r"[\w-]{20,}", foreign.text)), (
                method,
                path,
                foreign.text,
            )
    assert {s for _, _, s in scoped} == set(SCOPES)

    # Nothing refused above changed anything; then the right scope gets through.
    assert owned() == before
    for method, path, scope in scoped:
        allowed = call(http, method, path, ids, single[scope])
        assert allowed.status_code < 500 and allowed.status_code not in (401, 403), (
            method,
            path,
            allowed.text,
        )
    http.close()


def test_every_paginated_route_caps_its_page_size(served):
    live = served
    document = httpx.get(f"{live.url}/openapi.json").json()
    owner = key(live, "tenant_a", list(SCOPES))
    capped = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            limits = [p for p in operation.get("parameters", []) if p["name"] == "limit"]
            if not limits:
                continue
            maximum = int(limits[0]["schema"]["maximum"])
            url = live.url + path.format(connection_id="x", endpoint_id="x")
            response = httpx.request(method, url, headers=owner, params={"limit": maximum + 1})
            assert "limit" in problem_of(response, 422, "VALIDATION_ERROR")["detail"]
            capped += 1
    assert capped >= 5


def test_every_route_that_reads_a_body_caps_its_size_and_refuses_unknown_fields(served):
    live = served
    owner = key(live, "tenant_a", list(SCOPES))
    ids = {"connection_id": "c", "endpoint_id": "e", "delivery_id": "d"}
    checked = 0
    with httpx.Client(base_url=live.url, timeout=30, headers=owner) as http:
        for method, path, handler in routes(live):
            if "data" not in handler.parsed_fn_signature.parameters or path.startswith(
                PUBLIC_PREFIXES
            ):
                continue
            url = re.sub(r"\{(\w+):\w+\}", lambda m: ids[m.group(1)], path)
            big = b'{"note": "' + b"x" * (live.services.settings.max_body_bytes + 1) + b'"}'
            problem_of(
                http.request(
                    method, url, content=big, headers={"Content-Type": "application/json"}
                ),
                413,
                "PAYLOAD_TOO_LARGE",
            )
            body = {**BODIES.get((method, path), {}), "unexpected": 1}
            refused = problem_of(http.request(method, url, json=body), 422, "VALIDATION_ERROR")
            assert "unexpected" in refused["detail"], (method, path, refused)
            checked += 1
    assert checked >= 10


# ------------------------------------------------------------------------ API keys


def cli(live: LiveService, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": live.services.settings.database_url,
        "SECRET_KEY": SECRET_KEY,
        "SANDBOX": "1",
    }
    return subprocess.run(
        [CONNECTIONS, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


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
    problem_of(httpx.get(f"{live.url}/v1/connections", headers=headers), 401, "UNAUTHENTICATED")
    assert live.services.tables.api_keys("t_keys")[0].revoked_at is not None


# -------------------------------------------------------------------- rate limits


def test_a_key_over_its_rate_is_told_when_to_retry_and_other_keys_are_unaffected(sqlite_url):
    live = start_service(sqlite_url, RATE_LIMIT_PER_SECOND="2", RATE_LIMIT_BURST="3")
    try:
        busy, calm = (
            key(live, "tenant_a", ["connections:read"]),
            key(live, "tenant_a", ["connections:read"]),
        )
        url = f"{live.url}/v1/connections"
        assert [httpx.get(url, headers=busy).status_code for _ in range(3)] == [200] * 3
        limited = httpx.get(url, headers=busy)
        problem = problem_of(limited, 429, "RATE_LIMITED")
        assert "retry" in problem["detail"]
        assert limited.headers["retry-after"] == "1"
        assert httpx.get(url, headers=calm).status_code == 200

        time.sleep(int(limited.headers["retry-after"]))
        assert httpx.get(url, headers=busy).status_code == 200
    finally:
        live.stop()


def test_the_token_bucket_refills_at_its_rate_up_to_its_burst_and_zero_turns_it_off():
    now = [0.0]
    limiter = RateLimiter(per_second=10, burst=5, clock=lambda: now[0])
    assert [limiter.wait("k") for _ in range(6)] == [0, 0, 0, 0, 0, 1]
    now[0] += 0.1  # one token back
    assert [limiter.wait("k"), limiter.wait("k")] == [0, 1]
    now[0] += 60  # never more than the burst
    assert [limiter.wait("k") for _ in range(6)] == [0, 0, 0, 0, 0, 1]
    assert limiter.wait("other") == 0

    off = RateLimiter(per_second=0, burst=1, clock=lambda: now[0])
    assert not any(off.wait("k") for _ in range(10_000))


def test_rate_limit_settings_default_generous_and_refuse_nonsense():
    env = {"SECRET_KEY": SECRET_KEY, "DATABASE_URL": "sqlite:///:memory:"}
    default = Settings.from_env(env)
    assert (default.rate_limit_per_second, default.rate_limit_burst) == (100.0, 200)
    off = Settings.from_env({**env, "RATE_LIMIT_PER_SECOND": "0"})
    assert off.rate_limit_per_second == 0
    for name, value in [
        ("RATE_LIMIT_PER_SECOND", "-1"),
        ("RATE_LIMIT_PER_SECOND", "fast"),
        ("RATE_LIMIT_PER_SECOND", "nan"),
        ("RATE_LIMIT_BURST", "0"),
    ]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({**env, name: value})


# -------------------------------------------------------------------- return_url


def test_return_url_goes_only_to_an_origin_the_tenant_registered(served, tmp_path):
    live = served
    owner = key(live, "t_origins", ["connections:write"])
    url = f"{live.url}/v1/connections"

    def create(return_url: str) -> httpx.Response:
        return httpx.post(url, headers=owner, json={**CONNECTION, "return_url": return_url})

    none = problem_of(create("https://app.example/done"), 422, "VALIDATION_ERROR")
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
        problem = problem_of(create(bad), 422, "VALIDATION_ERROR")
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
    problem_of(create("http://localhost:3000/back"), 422, "VALIDATION_ERROR")
    other_tenant = key(live, "t_other", ["connections:write"])
    problem_of(
        httpx.post(
            url, headers=other_tenant, json={**CONNECTION, "return_url": "https://app.example/"}
        ),
        422,
        "VALIDATION_ERROR",
    )


# --------------------------------------------------------------- secrets, everywhere


@pytest.fixture
def hooked_live(database_url: str) -> Iterator[LiveService]:
    live = start_service(database_url, WEBHOOK_ALLOW_PRIVATE="1")
    yield live
    live.stop()


def needles(secrets: list[str]) -> list[str]:
    """Each secret whole, its last two thirds (past any prefix that escaping would change:
    `Atzr|` becomes `Atzr%7C`) and its longest alphanumeric run (past `+` and `/`)."""
    found = []
    for secret in secrets:
        run = max(re.findall(r"[A-Za-z0-9]+", secret), key=len)
        found += [secret, secret[len(secret) // 3 :], *([run] if len(run) >= 16 else [])]
    assert all(len(n) >= 16 for n in found), found
    return found


def leaks(haystack: str, secrets: list[str]) -> list[str]:
    lowered = haystack.lower()
    return [n for n in needles(secrets) if n in haystack or n.encode().hex() in lowered]


def test_no_secret_is_in_the_store_logs_responses_webhooks_or_exports_after_a_lifecycle(
    hooked_live, receiver, caplog, capfd, tmp_path
):
    caplog.set_level(logging.DEBUG)
    live = hooked_live
    s = Session(live)
    with s.api:
        created = s.call("POST", "/v1/webhook_endpoints", json={"url": receiver.url})
        first_secret = created["secret"]
        cid, tokens = full_lifecycle(live, s)
        rotated = s.call("POST", f"/v1/webhook_endpoints/{created['id']}/rotate_secret")
        s.call("POST", f"/v1/connections/{cid}/disconnect", json={"reason": "done"})
        while live.services.webhooks.run_once():  # deliver everything, signed by both
            pass
        read_everything(live, s, cid)
        deliveries = s.call(
            "GET", f"/v1/webhook_endpoints/{created['id']}/deliveries", params={"limit": 100}
        )
        s.call("GET", f"/v1/webhook_endpoints/{created['id']}")
        s.call("GET", "/v1/webhook_endpoints")
    api_keys = [s.api.headers["authorization"].removeprefix("Bearer ")]
    webhook_secrets = [first_secret, rotated["secret"]]
    secrets = {
        "refresh tokens": tokens,
        "authorization codes": s.codes,
        "API keys": api_keys,
        "webhook secrets": webhook_secrets,
        "LWA client secret": [SANDBOX_LWA_CLIENT_SECRET],
        "service secret key": [SECRET_KEY],
    }
    assert len(receiver.requests) >= 10 and len(deliveries["data"]) >= 10
    assert all(d["status"] == "succeeded" for d in deliveries["data"])

    # Each webhook secret was shown in exactly one response: the one that made it.
    for secret in webhook_secrets:
        assert sum(secret in answer for answer in s.received) == 1
    shown_once = [a for a in s.received if not any(w in a for w in webhook_secrets)]
    assert len(shown_once) == len(s.received) - 2

    webhooks = "\n".join(f"{r.headers} {r.body}" for r in receiver.requests)
    assert cid in webhooks and "connection.api_authorized" in webhooks
    render = logging.Formatter("%(name)s %(levelname)s %(message)s")
    out, err = capfd.readouterr()
    commands = [
        cli(live, *args, cwd=tmp_path)
        for args in (
            ("audit", "export", "--tenant", TENANT),
            ("audit", "export", "--tenant", TENANT, "--format", "csv"),
            ("api-keys", "list"),
            ("config",),
        )
    ]
    assert all(c.returncode == 0 for c in commands) and cid in commands[0].stdout
    haystacks = {
        "the store": store_contents(live),
        "API responses and exports": "\n".join(shown_once),
        "the CLI's exports and listings": "\n".join(c.stdout + c.stderr for c in commands),
        "webhooks": webhooks,
        "logs": "\n".join(render.format(r) for r in caplog.records) + out + err,
    }
    assert cid in haystacks["the store"] or cid.encode().hex() in haystacks["the store"]
    assert any("webhook delivery" in r.getMessage() for r in caplog.records)
    found = {
        (place, kind)
        for place, text in haystacks.items()
        for kind, group in secrets.items()
        if leaks(text, group)
    }
    assert found == set(), f"secrets found: {sorted(found)}"


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

"""Security at the edge: every route's scope (walking the whole route table), tenant
isolation on each, caps on pagination and bodies, and rate limits per key."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from domain.permissions import REQUIRED_SC_PERMISSIONS
from service.api.auth import scope_of
from service.api.rate_limit import RateLimiter
from service.keys.api_keys import SCOPES
from service.settings import ConfigError, Settings
from tests.api.helpers import VALID, assert_problem, key
from tests.conftest import SECRET_KEY, LiveService, start_service


@pytest.fixture
def served(sqlite_url: str) -> Iterator[LiveService]:
    live = start_service(sqlite_url, WEBHOOK_ALLOW_PRIVATE="1")
    yield live
    live.stop()


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
    # Its mailed one-time link: the signed token is the credential (SPEC §12).
    "/v1/oauth/amazon/login/continue/{token:str}",
}
# The console's pages (SPEC §13) take no API key: each checks its own session and role
# (tests/console).
PUBLIC_PREFIXES = ("/docs", "/connect/", "/sandbox/amazon/", "/sandbox/mail", "/console")
LATER = "2030-01-01T00:00:00Z"
BODIES = {  # a valid body per route, so a refusal can only come from the guard
    ("POST", "/v1/connections"): VALID,
    ("POST", "/v1/connections/{connection_id:str}/confirm_seller_central_user"): {
        "permissions": REQUIRED_SC_PERMISSIONS
    },
    ("POST", "/v1/connections/{connection_id:str}/disconnect"): {"reason": "walk"},
    ("POST", "/v1/connections/{connection_id:str}/erase"): {"reason": "walk"},
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
    cid = httpx.post(f"{live.url}/v1/connections", json=VALID, headers=owner).json()["id"]
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
        "token": "not-a-link-this-service-mailed",
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
        assert_problem(call(http, method, path, ids, {}), 401, "UNAUTHENTICATED")
        for other, headers in single.items():
            if other != scope:
                refused = assert_problem(call(http, method, path, ids, headers), 403, "FORBIDDEN")
                assert refused["required_scope"] == scope, (method, path)
        foreign = call(http, method, path, ids, stranger)
        assert foreign.status_code < 500, (method, path, foreign.text)
        if "{" in path:  # naming tenant_a's resource: as absent as a missing one
            assert_problem(foreign, 404, "NOT_FOUND")
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


def test_every_guarded_route_runs_its_guards_without_a_copy_of_its_handler(served):
    # litestar copies a route's handler on every request to run its guards, unless
    # guards_on_the_handler gave the handler a call of its own (service/api/auth.py); a
    # slotted handler cannot hold one, and the proxy's (the busiest route) was slotted.
    for method, path, handler in routes(served):
        if method != "OPTIONS" and handler.resolve_guards():
            assert "authorize_connection" in getattr(handler, "__dict__", {}), f"{method} {path}"


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
            assert "limit" in assert_problem(response, 422, "VALIDATION_ERROR")["detail"]
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
            assert_problem(
                http.request(
                    method, url, content=big, headers={"Content-Type": "application/json"}
                ),
                413,
                "PAYLOAD_TOO_LARGE",
            )
            body = {**BODIES.get((method, path), {}), "unexpected": 1}
            refused = assert_problem(http.request(method, url, json=body), 422, "VALIDATION_ERROR")
            assert "unexpected" in refused["detail"], (method, path, refused)
            checked += 1
    assert checked >= 10


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
        problem = assert_problem(limited, 429, "RATE_LIMITED")
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

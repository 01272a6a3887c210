"""Cached access tokens answered before routing (service.credentials.hot_path): the same
answer as the route's, the same access log, and everything it does not take answered by
the route as before. On PostgreSQL, where the token memory is trusted between the
changes the store announces (on SQLite every token is checked against the store, so the
route answers them all)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from tests.conftest import LiveService, start_service
from tests.credentials.helpers import SCOPES, active, token

PADDED = b'{"api": "sp-api"' + b" " * 2000 + b"}"  # past what the hot path reads


def _listening(live: LiveService) -> LiveService:
    live.services.api_keys.watch()  # as `connections serve` does on startup
    live.services.credentials.watch()
    heard = [live.services.api_keys.listener, *live.services.credentials.tokens.memory.listeners]
    deadline = time.monotonic() + 10
    while not all(x is not None and x.listening.is_set() for x in heard):
        assert time.monotonic() < deadline, "the token memory never started listening"
        time.sleep(0.01)
    return live


@pytest.fixture
def served(pg_schema_url: str) -> Iterator[LiveService]:
    live = _listening(start_service(pg_schema_url, RATE_LIMIT_PER_SECOND="0"))
    yield live
    live.stop()


def hot_answers(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return float(re.search(r"^access_token_hot_path_answers_total (\S+)$", text, re.M).group(1))


def remembered(live: LiveService, client: httpx.Client, connection_id: str) -> None:
    """The connection's token in the process's memory: the first request refreshes it
    (its row's change is announced, which drops what that request kept), the next keeps
    it; asked until the hot path answers."""
    before = hot_answers(live.url)
    deadline = time.monotonic() + 10
    while hot_answers(live.url) == before:
        assert time.monotonic() < deadline, "the token was never answered from memory"
        assert token(client, connection_id).status_code == 201


def post(client: httpx.Client, connection_id: str, body: bytes, **headers: str):
    return client.post(
        f"/v1/connections/{connection_id}/access_tokens",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )


def requests_counted(url: str) -> float:
    """201s counted under the route's template (the request-id middleware's metric)."""
    text = httpx.get(f"{url}/metrics").text
    line = re.search(
        r'^http_requests_total\{method="POST",route="/v1/connections/\{connection_id\}/'
        r'access_tokens",status="201"\} (\S+)$',
        text,
        re.M,
    )
    return float(line.group(1)) if line else 0.0


def test_a_remembered_token_is_answered_before_routing_exactly_as_the_route_answers_it(
    served, backend
):
    c = active(backend)
    remembered(served, backend, c["id"])
    before, counted = hot_answers(served.url), requests_counted(served.url)
    hot = post(backend, c["id"], b'{"api": "sp-api"}')
    assert hot_answers(served.url) == before + 1
    routed = post(backend, c["id"], PADDED)  # replayed to the route whole
    assert hot_answers(served.url) == before + 1

    assert hot.status_code == routed.status_code == 201
    assert hot.content == routed.content  # the same bytes: token, expiry, endpoint…
    assert hot.json()["access_token"].startswith("Atza|")
    for name in ("content-type", "cache-control", "content-length"):
        assert hot.headers[name] == routed.headers[name], name
    assert hot.headers["x-request-id"] != routed.headers["x-request-id"]
    assert requests_counted(served.url) == counted + 2  # one route label for both

    log = backend.get(f"/v1/connections/{c['id']}/access_log").json()["data"]
    assert [e["request_id"] for e in log[:2]] == [
        routed.headers["x-request-id"],
        hot.headers["x-request-id"],
    ]
    for entry in log[:2]:
        assert (entry["kind"], entry["status"], entry["outcome"]) == ("access_token", 201, "hit")

    # A body in pieces, and the caller's own request id, are taken as the route takes them.
    pieces = post(backend, c["id"], iter([b'{"api"', b': "sp-api"}']), **{"X-Request-ID": "mine-1"})
    assert pieces.status_code == 201 and pieces.content == routed.content
    assert pieces.headers["x-request-id"] == "mine-1"
    assert hot_answers(served.url) == before + 2

    # A key's last use is still noted once a minute: that request goes to the route.
    served.clock.advance(timedelta(minutes=2))
    assert token(backend, c["id"]).content == routed.content
    assert hot_answers(served.url) == before + 2
    rows = served.services.tables.query("SELECT last_used_at FROM {p}api_keys")
    assert max(datetime.fromisoformat(r["last_used_at"]) for r in rows) == served.clock.now()


@pytest.mark.parametrize(
    "case, body, headers, status, code",
    [
        ("invalid JSON", b'{"api": ', {}, 422, "VALIDATION_ERROR"),
        ("an unknown field", b'{"api": "sp-api", "x": 1}', {}, 422, "VALIDATION_ERROR"),
        ("an unknown api", b'{"api": "mws"}', {}, 422, "VALIDATION_ERROR"),
        (
            "profile_id for the SP-API",
            b'{"api": "sp-api", "profile_id": "1"}',
            {},
            422,
            "VALIDATION_ERROR",
        ),
        ("no API key", b'{"api": "sp-api"}', {"Authorization": ""}, 401, "UNAUTHENTICATED"),
        (
            "another scheme",
            b'{"api": "sp-api"}',
            {"Authorization": "Basic eA=="},
            401,
            "UNAUTHENTICATED",
        ),
        (
            "an unknown key",
            b'{"api": "sp-api"}',
            {"Authorization": "Bearer sk_x"},
            401,
            "UNAUTHENTICATED",
        ),
        (
            "a long Idempotency-Key",
            b'{"api": "sp-api"}',
            {"Idempotency-Key": "k" * 300},
            422,
            "VALIDATION_ERROR",
        ),
    ],
)
def test_what_the_hot_path_does_not_take_is_answered_by_the_route(
    served, backend, case, body, headers, status, code
):
    c = active(backend)
    remembered(served, backend, c["id"])
    before = hot_answers(served.url)
    answer = post(backend, c["id"], body, **headers)
    assert answer.status_code == status, (case, answer.text)
    assert answer.headers["content-type"].startswith("application/problem+json"), case
    assert answer.json()["code"] == code
    assert "Atza|" not in answer.text
    assert hot_answers(served.url) == before


def test_the_scope_the_tenant_and_the_connections_state_are_the_routes_to_refuse(served, backend):
    c = active(backend)
    remembered(served, backend, c["id"])
    before = hot_answers(served.url)
    with served.client(scopes=["connections:read"]) as reader:
        assert reader.get(f"/v1/connections/{c['id']}").status_code == 200  # a key in use
        assert token(reader, c["id"]).status_code == 403
    with served.client(tenant="tenant_b", scopes=SCOPES) as other:
        assert token(other, c["id"]).status_code == 404
    assert token(backend, c["id"], api="ads").json()["code"] == "API_AUTHORIZATION_REQUIRED"
    assert backend.post(
        f"/v1/connections/{c['id']}/access_tokens?x=1", json={"api": "sp-api"}
    ).is_success  # a query string: the route answers (and ignores it)
    other_type = post(backend, c["id"], b'{"api": "sp-api"}', **{"Content-Type": "text/plain"})
    assert other_type.status_code == 201  # the route reads the body as JSON all the same
    assert hot_answers(served.url) == before

    backend.post(f"/v1/connections/{c['id']}/disconnect").raise_for_status()
    refused = token(backend, c["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "API_AUTHORIZATION_REQUIRED"
    assert hot_answers(served.url) == before


def test_access_that_lapses_while_its_token_is_remembered_is_refused(served, backend):
    """Amazon's yearly authorization lapses at an instant, not at an event: a token still
    fresh in memory past it is not handed out."""
    c = active(backend)
    lapses_at = datetime.fromisoformat(c["lapses_at"].replace("Z", "+00:00"))
    served.clock.advance(lapses_at - served.clock.now() - timedelta(minutes=30))
    remembered(served, backend, c["id"])  # fresh for an hour, 30 minutes before the lapse
    # Half a second before the lapse the hot path leaves it to the route (it judges a
    # second ahead), which still hands the token out.
    served.clock.advance(timedelta(minutes=30) - timedelta(milliseconds=500))
    assert backend.get(f"/v1/connections/{c['id']}").status_code == 200  # the key's use noted
    before = hot_answers(served.url)
    assert token(backend, c["id"]).status_code == 201
    assert hot_answers(served.url) == before
    served.clock.advance(timedelta(minutes=1))
    assert backend.get(f"/v1/connections/{c['id']}").status_code == 200
    refused = token(backend, c["id"])
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "REAUTHORIZATION_REQUIRED"
    assert hot_answers(served.url) == before


def test_a_token_about_to_go_stale_is_left_to_the_route(served, backend):
    """What the hot path judges it judges a second ahead, so the route's own checks (a
    moment later) cannot turn: within that second of the token's refresh margin the route
    answers (and of a lapse: the test above)."""
    c = active(backend)
    remembered(served, backend, c["id"])
    first = token(backend, c["id"]).json()
    stale_at = datetime.fromisoformat(first["expires_at"].replace("Z", "+00:00")) - timedelta(
        minutes=5
    )
    served.clock.advance(stale_at - served.clock.now() - timedelta(milliseconds=500))
    assert backend.get(f"/v1/connections/{c['id']}").status_code == 200  # the key's use noted
    before = hot_answers(served.url)
    routed = token(backend, c["id"])
    assert routed.status_code == 201 and routed.json()["access_token"] == first["access_token"]
    assert hot_answers(served.url) == before


def test_a_key_out_of_rate_is_refused_by_the_route_with_its_retry_after(pg_schema_url):
    live = _listening(
        start_service(pg_schema_url, RATE_LIMIT_PER_SECOND="0.01", RATE_LIMIT_BURST="40")
    )
    try:
        with live.client(scopes=SCOPES) as backend:
            c = active(backend)
            remembered(live, backend, c["id"])
            before = hot_answers(live.url)
            answers = [token(backend, c["id"]) for _ in range(40)]
            statuses = [a.status_code for a in answers]
            assert 201 in statuses and statuses[-1] == 429, statuses
            assert statuses == sorted(statuses)  # served while the burst lasted, then refused
            refused = answers[-1]
            assert refused.json()["code"] == "RATE_LIMITED" and int(refused.headers["retry-after"])
            assert hot_answers(live.url) == before + statuses.count(201)
    finally:
        live.stop()

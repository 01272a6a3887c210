"""Optimistic concurrency: If-Match applies only at the current version, and of requests
racing on one connection one wins per version, the others conflict, history stays gapless."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx

from tests.api.helpers import VALID, assert_problem, count, create, history
from tests.conftest import LiveService

# ------------------------------------------------------------------ If-Match


def test_if_match_applies_only_at_the_current_version(api):
    c = create(api)
    path = f"/v1/connections/{c['id']}"
    current = api.get(path).headers["etag"]
    assert current == '"1"'

    done = api.post(f"{path}/start_authorization", headers={"If-Match": current})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "owner_pending"
    assert done.headers["etag"] == '"2"'
    before = history(api, c["id"])

    # A stale ETag: 412, nothing recorded.
    stale = api.post(
        f"{path}/disconnect", headers={"If-Match": current}, json={"reason": "stale read"}
    )
    problem = assert_problem(stale, 412, "VERSION_CONFLICT")
    assert "1" in problem["detail"] and "2" in problem["detail"]
    assert history(api, c["id"]) == before
    now = api.get(path)
    assert now.json()["state"] == "owner_pending"
    assert now.headers["etag"] == '"2"'

    # Not an ETag at all: a validation problem, nothing recorded.
    problem = assert_problem(
        api.post(f"{path}/disconnect", headers={"If-Match": "yesterday"}), 422, "VALIDATION_ERROR"
    )
    assert "If-Match" in problem["detail"]
    assert history(api, c["id"]) == before

    # The current one, weak or strong, applies the action.
    weak = api.post(f"{path}/disconnect", headers={"If-Match": 'W/"2"'})
    assert weak.status_code == 200, weak.text
    assert weak.headers["etag"] == '"3"'
    assert [e["version"] for e in history(api, c["id"])] == [1, 2, 3]


# ------------------------------------------------------------------ lost races


def race(live: LiveService, api: httpx.Client, call, n: int = 8) -> list[httpx.Response]:
    """`n` clients, connected beforehand, send `call` at the same instant."""
    clients = [
        httpx.Client(base_url=live.url, headers=dict(api.headers), timeout=30) for _ in range(n)
    ]
    for client in clients:
        client.get("/healthz")  # open the connection now, not inside the race
    barrier = threading.Barrier(n)
    results: list[httpx.Response | BaseException] = [None] * n  # type: ignore[list-item]

    def run(i: int) -> None:
        try:
            barrier.wait(10)
            results[i] = call(clients[i])
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for client in clients:
        client.close()
    errors = [r for r in results if not isinstance(r, httpx.Response)]
    assert not errors, errors
    return results  # type: ignore[return-value]


def assert_no_server_errors(responses: list[httpx.Response]) -> None:
    bad = [(r.status_code, r.text) for r in responses if r.status_code >= 500]
    assert not bad, bad


def assert_history_is_gapless(api: httpx.Client, connection_id: str) -> list[dict[str, Any]]:
    events = history(api, connection_id)
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert len({e["id"] for e in events}) == len(events)
    return events


def assert_losers_conflict(responses: list[httpx.Response]) -> None:
    for r in responses:
        if r.status_code != 200:
            problem = assert_problem(r, 409, r.json().get("code"))
            assert problem["code"] in ("VERSION_CONFLICT", "INVALID_TRANSITION"), problem


def test_concurrent_actions_on_one_connection_let_one_request_win_per_version(live, api):
    c = create(api)
    path = f"/v1/connections/{c['id']}/start_authorization"
    version = 1
    for _ in range(3):
        responses = race(live, api, lambda client: client.post(path))
        assert_no_server_errors(responses)
        assert_losers_conflict(responses)
        winners = sorted(r.json()["version"] for r in responses if r.status_code == 200)
        assert winners, [r.text for r in responses]
        # Each win is its own version step: no two requests got the same version.
        assert winners == list(range(version + 1, version + 1 + len(winners)))
        for r in responses:
            if r.status_code == 200:
                assert r.headers["etag"] == f'"{r.json()["version"]}"'
        events = assert_history_is_gapless(api, c["id"])
        assert len(events) == version + len(winners)
        assert events[-1]["type"] == "connection.authorization_started"
        version = len(events)

    final = api.get(f"/v1/connections/{c['id']}")
    assert (final.json()["state"], final.json()["version"]) == ("owner_pending", version)
    assert final.headers["etag"] == f'"{version}"'


def test_concurrent_disconnects_succeed_exactly_once(live, api):
    for _ in range(3):
        c = create(api)
        path = f"/v1/connections/{c['id']}/disconnect"
        responses = race(
            live, api, lambda client, path=path: client.post(path, json={"reason": "race"})
        )
        assert_no_server_errors(responses)
        assert_losers_conflict(responses)
        statuses = Counter(r.status_code for r in responses)
        assert statuses[200] == 1, statuses
        events = assert_history_is_gapless(api, c["id"])
        assert [e["type"] for e in events] == ["connection.invited", "connection.disconnected"]
        final = api.get(f"/v1/connections/{c['id']}").json()
        assert (final["state"], final["version"]) == ("disconnected", 2)


def test_concurrent_creates_with_one_idempotency_key_make_one_connection(live, api):
    key = {"Idempotency-Key": "burst-create"}
    responses = race(
        live, api, lambda client: client.post("/v1/connections", json=VALID, headers=key)
    )
    assert_no_server_errors(responses)
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1, [r.text for r in responses]
    for r in responses:
        if r.status_code != 201:
            assert_problem(r, 409, "IDEMPOTENCY_KEY_REUSED")
    assert count(api) == 1

"""What keeps API users safe: authentication, scopes, tenant isolation, optimistic
concurrency (If-Match and lost races), idempotency, and input validation that answers
4xx problems, never a 500, and creates nothing."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from eventsourcing.persistence import OperationalError

from tests import contract
from tests.conftest import LiveService, start_service

PROBLEM_JSON = "application/problem+json"
VALID = {"owner_email": "owner@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}
ACTIONS = list(contract.PUBLIC_ACTIONS)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"].strip()
    return body


def create(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/connections", json={**VALID, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def count(api: httpx.Client) -> int:
    response = api.get("/v1/connections", params={"limit": 100})
    assert response.status_code == 200, response.text
    return len(response.json()["data"])


def history(api: httpx.Client, connection_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/connections/{connection_id}/events", params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.json()["data"]


# ------------------------------------------------------------------ authentication


def test_requests_without_a_valid_key_are_unauthenticated(live, api):
    c = create(api)
    url = f"{live.url}/v1/connections"
    cases = {
        "no header": {},
        "bearer without a key": {"Authorization": "Bearer"},
        "other scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
        "unknown key": {"Authorization": "Bearer sk_this_key_does_not_exist"},
    }
    for name, headers in cases.items():
        for response in (
            httpx.get(url, headers=headers),
            httpx.post(url, headers=headers, json=VALID),
            httpx.get(f"{url}/{c['id']}", headers=headers),
            httpx.post(f"{url}/{c['id']}/disconnect", headers=headers),
        ):
            assert response.status_code == 401, (name, response.text)
            assert_problem(response, 401, "UNAUTHENTICATED")
    assert count(api) == 1
    assert api.get(f"/v1/connections/{c['id']}").json()["state"] == "invited"


def test_a_revoked_key_stops_working_at_once(live):
    issued = live.services.api_keys.create("tenant_a", ["connections:read", "connections:write"])
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert httpx.get(f"{live.url}/v1/connections", headers=headers).status_code == 200

    assert live.services.api_keys.revoke(issued.record.id)

    problem = assert_problem(
        httpx.get(f"{live.url}/v1/connections", headers=headers), 401, "UNAUTHENTICATED"
    )
    assert "revoked" in problem["detail"] or "unknown" in problem["detail"]
    assert_problem(
        httpx.post(f"{live.url}/v1/connections", headers=headers, json=VALID),
        401,
        "UNAUTHENTICATED",
    )


def test_a_read_only_key_may_read_but_not_write(live, api):
    c = create(api)
    with live.client("tenant_a", ["connections:read"]) as reader:
        assert reader.get("/v1/connections").status_code == 200
        assert reader.get(f"/v1/connections/{c['id']}").status_code == 200

        problem = assert_problem(reader.post("/v1/connections", json=VALID), 403, "FORBIDDEN")
        assert "connections:write" in problem["detail"]
        assert_problem(reader.post(f"/v1/connections/{c['id']}/disconnect"), 403, "FORBIDDEN")

    with live.client("tenant_a", ["webhooks:manage"]) as unrelated:
        assert_problem(unrelated.get("/v1/connections"), 403, "FORBIDDEN")

    assert count(api) == 1
    assert len(history(api, c["id"])) == 1


# ------------------------------------------------------------------ tenant isolation


def test_another_tenants_connection_is_not_found_everywhere(live, api):
    mine = create(api)
    with live.client("tenant_b") as other:
        theirs = create(other)
        absent = "00000000-0000-4000-8000-000000000000"

        for path in (
            f"/v1/connections/{mine['id']}",
            f"/v1/connections/{mine['id']}/events",
            f"/v1/connections/{mine['id']}/guide",
        ):
            problem = assert_problem(other.get(path), 404, "NOT_FOUND")
            assert "tenant" not in problem["detail"].lower()
        assert_problem(
            other.get(f"/v1/connections/{mine['id']}", params={"version": 1}), 404, "NOT_FOUND"
        )
        assert_problem(
            other.get(f"/v1/connections/{mine['id']}", params={"as_of": "2030-01-01T00:00:00Z"}),
            404,
            "NOT_FOUND",
        )
        for action in ACTIONS:
            body = {"permissions": {}} if action == "confirm_seller_central_user" else None
            assert_problem(
                other.post(f"/v1/connections/{mine['id']}/{action}", json=body), 404, "NOT_FOUND"
            )

        # Indistinguishable from a connection that does not exist at all.
        foreign = other.get(f"/v1/connections/{mine['id']}").json()
        missing = other.get(f"/v1/connections/{absent}").json()
        assert foreign["detail"].replace(mine["id"], "X") == missing["detail"].replace(absent, "X")

        assert [c["id"] for c in other.get("/v1/connections").json()["data"]] == [theirs["id"]]
        assert_problem(
            other.get("/v1/connections", params={"starting_after": mine["id"]}),
            422,
            "VALIDATION_ERROR",
        )

    assert [c["id"] for c in api.get("/v1/connections").json()["data"]] == [mine["id"]]
    after = api.get(f"/v1/connections/{mine['id']}").json()
    assert (after["state"], after["version"]) == ("invited", 1)
    assert len(history(api, mine["id"])) == 1


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


# ------------------------------------------------------------------ Idempotency-Key


def test_idempotency_key_replays_the_same_create_and_refuses_another_body(api):
    headers = {"Idempotency-Key": "create-once-1"}
    first = api.post("/v1/connections", json=VALID, headers=headers)
    second = api.post("/v1/connections", json=VALID, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert count(api) == 1

    other_body = api.post(
        "/v1/connections",
        headers=headers,
        json={**VALID, "owner_email": "someone-else@example.com"},
    )
    problem = assert_problem(other_body, 422, "IDEMPOTENCY_KEY_REUSED")
    assert "Idempotency-Key" in problem["detail"]
    assert count(api) == 1


def test_an_idempotency_key_is_1_to_255_characters(api):
    for key in ("k", "k" * 255):
        response = api.post("/v1/connections", json=VALID, headers={"Idempotency-Key": key})
        assert response.status_code == 201, response.text
    for key in ("", "k" * 256):
        refused = api.post("/v1/connections", json=VALID, headers={"Idempotency-Key": key})
        problem = assert_problem(refused, 422, "VALIDATION_ERROR")
        assert "idempotency-key" in problem["detail"].lower(), problem
    assert count(api) == 2


def test_without_an_idempotency_key_each_request_answers_for_itself(api):
    first = api.post("/v1/connections", json=VALID)
    again = api.post("/v1/connections", json=VALID)
    assert first.status_code == again.status_code == 201
    assert first.headers["content-type"] == "application/json"
    assert first.headers["location"] == f"/v1/connections/{first.json()['id']}"
    assert first.headers["etag"] == '"1"'
    assert first.json()["id"] != again.json()["id"]
    assert "idempotent-replayed" not in again.headers

    resent = api.post(f"/v1/connections/{first.json()['id']}/resend_invitation")
    assert (resent.status_code, resent.headers["etag"]) == (200, '"2"')
    assert resent.headers["content-type"] == "application/json"
    assert resent.json()["version"] == 2


def test_a_key_used_for_one_action_is_refused_for_another(api):
    c = create(api)
    key = {"Idempotency-Key": "one-key-two-paths"}
    # Neither sends a body: the requests differ only by their path.
    resent = api.post(f"/v1/connections/{c['id']}/resend_invitation", headers=key)
    assert resent.status_code == 200, resent.text

    other_path = api.post(f"/v1/connections/{c['id']}/disconnect", headers=key)

    assert_problem(other_path, 422, "IDEMPOTENCY_KEY_REUSED")
    assert [e["type"] for e in history(api, c["id"])] == [
        "connection.invited",
        "connection.invitation_resent",
    ]


def test_a_retry_after_a_refused_request_gets_the_same_answer(api):
    c = create(api)
    key = {"Idempotency-Key": "refused-then-retried"}
    path = f"/v1/connections/{c['id']}/activate"
    refused = api.post(path, json={}, headers=key)
    problem = assert_problem(refused, 409, refused.json()["code"])
    assert problem["code"] != "IDEMPOTENCY_KEY_REUSED"

    for _ in range(2):
        retry = api.post(path, json={}, headers=key)
        assert (retry.status_code, retry.json()["code"]) == (409, problem["code"]), retry.text
        assert "outcome" not in retry.json()
    # The key is free again: once the connection can act, the same key does it.
    assert api.post(f"/v1/connections/{c['id']}/disconnect", headers=key).status_code == 200


def test_idempotent_actions_replay_instead_of_acting_twice(live, api):
    c = create(api)
    headers = {"Idempotency-Key": "disconnect-once"}
    path = f"/v1/connections/{c['id']}/disconnect"
    first = api.post(path, json={"reason": "customer left"}, headers=headers)
    replay = api.post(path, json={"reason": "customer left"}, headers=headers)

    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers.get("idempotent-replayed") == "true"
    assert [e["type"] for e in history(api, c["id"])] == [
        "connection.invited",
        "connection.disconnected",
    ]
    assert_problem(
        api.post(path, json={"reason": "other"}, headers=headers), 422, "IDEMPOTENCY_KEY_REUSED"
    )

    # Keys belong to a tenant: another tenant's same key and body is a new request.
    with live.client("tenant_b") as other:
        mine = api.post("/v1/connections", json=VALID, headers={"Idempotency-Key": "shared"})
        theirs = other.post("/v1/connections", json=VALID, headers={"Idempotency-Key": "shared"})
        assert mine.status_code == theirs.status_code == 201
        assert mine.json()["id"] != theirs.json()["id"]
        assert "idempotent-replayed" not in theirs.headers


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


def test_a_key_whose_first_request_died_after_its_commit_says_the_outcome_is_unknown(
    live, api, monkeypatch
):
    """The database goes away between the command's commit and the stored response: a
    retry must not run the command again, and after a while it is told so plainly
    instead of "still in progress" for ever."""

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(live.services.tables, "complete_idempotency_key", database_gone)
    key = {"Idempotency-Key": "dies-after-commit"}
    assert_problem(api.post("/v1/connections", json=VALID, headers=key), 503, "SERVICE_UNAVAILABLE")
    monkeypatch.undo()
    assert count(api) == 1  # it did take effect

    soon = assert_problem(
        api.post("/v1/connections", json=VALID, headers=key), 409, "IDEMPOTENCY_KEY_REUSED"
    )
    assert "in progress" in soon["detail"]
    live.clock.advance(timedelta(minutes=3))
    later = assert_problem(
        api.post("/v1/connections", json=VALID, headers=key), 409, "IDEMPOTENCY_KEY_REUSED"
    )
    assert later["outcome"] == "unknown" and "Read the connection" in later["detail"]
    assert count(api) == 1  # never twice


# ------------------------------------------------------------------ bad input

# One server for the whole matrix: validation happens before the store, and each case
# checks on its own that nothing was created.


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    path: Path = tmp_path_factory.mktemp("bad_input")
    service = start_service(f"sqlite:///{path}/connections.db")
    yield service
    service.stop()


@pytest.fixture(scope="module")
def shared_api(shared: LiveService) -> Iterator[httpx.Client]:
    with shared.client() as client:
        client.post("/v1/connections", json=VALID).raise_for_status()
        yield client


@pytest.fixture(scope="module")
def existing(shared_api: httpx.Client) -> str:
    return shared_api.get("/v1/connections").json()["data"][0]["id"]


JSON_HEADERS = {"Content-Type": "application/json"}
BAD_CREATES: dict[str, tuple[dict[str, Any], int, str, list[str]]] = {
    # name: (httpx request kwargs, status, code, words the detail must contain)
    "malformed JSON": (
        {"content": b'{"owner_email" "o@example.com"}', "headers": JSON_HEADERS},
        422,
        "VALIDATION_ERROR",
        ["json"],
    ),
    "truncated JSON": (
        {"content": b'{"owner_email": ', "headers": JSON_HEADERS},
        422,
        "VALIDATION_ERROR",
        ["truncated"],
    ),
    "not JSON at all": (
        {"content": b"owner_email=a@b.co", "headers": JSON_HEADERS},
        422,
        "VALIDATION_ERROR",
        ["json"],
    ),
    "JSON array": ({"json": [VALID]}, 422, "VALIDATION_ERROR", ["object", "array"]),
    "JSON string": ({"json": "owner@example.com"}, 422, "VALIDATION_ERROR", ["object"]),
    "JSON null": (
        {"content": b"null", "headers": JSON_HEADERS},
        422,
        "VALIDATION_ERROR",
        ["object"],
    ),
    "unknown field": ({"json": {**VALID, "colour": "blue"}}, 422, "VALIDATION_ERROR", ["colour"]),
    "missing field": (
        {"json": {"owner_email": "o@example.com", "region": "na"}},
        422,
        "VALIDATION_ERROR",
        ["marketplace_ids"],
    ),
    "email of wrong type": (
        {"json": {**VALID, "owner_email": 42}},
        422,
        "VALIDATION_ERROR",
        ["owner_email", "str"],
    ),
    "marketplaces as a string": (
        {"json": {**VALID, "marketplace_ids": "ATVPDKIKX0DER"}},
        422,
        "VALIDATION_ERROR",
        ["marketplace_ids"],
    ),
    "boolean as a string": (
        {"json": {**VALID, "requires_advertising": "yes"}},
        422,
        "VALIDATION_ERROR",
        ["requires_advertising"],
    ),
    "oversized body": (
        {"json": {**VALID, "metadata": {"note": "x" * (65 * 1024)}}},
        413,
        "PAYLOAD_TOO_LARGE",
        [],
    ),
    "unknown region": (
        {"json": {**VALID, "region": "mars"}},
        422,
        "VALIDATION_ERROR",
        ["region", "mars"],
    ),
    "marketplace of another region": (
        {"json": {**VALID, "marketplace_ids": ["ATVPDKIKX0DER", "A1PA6795UKMFR9"]}},
        422,
        "VALIDATION_ERROR",
        ["A1PA6795UKMFR9", "na"],
    ),
    "malformed marketplace id": (
        {"json": {**VALID, "marketplace_ids": ["us"]}},
        422,
        "VALIDATION_ERROR",
        ["marketplace_ids"],
    ),
    "no marketplaces": (
        {"json": {**VALID, "marketplace_ids": []}},
        422,
        "VALIDATION_ERROR",
        ["marketplace_ids"],
    ),
    "bad e-mail": (
        {"json": {**VALID, "owner_email": "owner.example.com"}},
        422,
        "VALIDATION_ERROR",
        ["owner_email", "e-mail"],
    ),
    "bad inviter e-mail": (
        {"json": {**VALID, "invited_by": {"name": "Ada", "email": "ada@", "role": "agency"}}},
        422,
        "VALIDATION_ERROR",
        ["invited_by.email"],
    ),
    "unknown inviter role": (
        {
            "json": {
                **VALID,
                "invited_by": {"name": "Ada", "email": "ada@agency.example", "role": "boss"},
            }
        },
        422,
        "VALIDATION_ERROR",
        ["role"],
    ),
    "javascript return_url": (
        {"json": {**VALID, "return_url": "javascript:alert(1)"}},
        422,
        "VALIDATION_ERROR",
        ["return_url"],
    ),
    "relative return_url": (
        {"json": {**VALID, "return_url": "/after"}},
        422,
        "VALIDATION_ERROR",
        ["return_url"],
    ),
    "too many metadata keys": (
        {"json": {**VALID, "metadata": {f"k{i}": "v" for i in range(51)}}},
        422,
        "VALIDATION_ERROR",
        ["metadata"],
    ),
    "metadata value not a string": (
        {"json": {**VALID, "metadata": {"n": 1}}},
        422,
        "VALIDATION_ERROR",
        ["metadata"],
    ),
    "oversized Idempotency-Key": (
        {"json": VALID, "headers": {"Idempotency-Key": "k" * 300}},
        422,
        "VALIDATION_ERROR",
        ["idempotency-key"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_CREATES), ids=list(BAD_CREATES))
def test_bad_create_requests_are_4xx_problems_and_create_nothing(shared_api, case):
    kwargs, status, code, words = BAD_CREATES[case]
    before = count(shared_api)

    response = shared_api.post("/v1/connections", **kwargs)

    problem = assert_problem(response, status, code)
    for word in words:
        assert word.lower() in problem["detail"].lower(), problem["detail"]
    assert count(shared_api) == before


BAD_READS: dict[str, tuple[str, dict[str, str], list[str]]] = {
    "limit=0": ("/v1/connections", {"limit": "0"}, ["limit"]),
    "limit=1000": ("/v1/connections", {"limit": "1000"}, ["limit"]),
    "limit not a number": ("/v1/connections", {"limit": "ten"}, ["limit"]),
    "unknown state filter": ("/v1/connections", {"state": "sleeping"}, ["state"]),
    "unknown region filter": ("/v1/connections", {"region": "mars"}, ["region"]),
    "cursor naming no connection": (
        "/v1/connections",
        {"starting_after": "nope"},
        ["starting_after"],
    ),
    "invalid as_of": ("{c}", {"as_of": "last tuesday"}, ["as_of"]),
    "as_of without time zone": ("{c}", {"as_of": "2026-01-05T09:00:00"}, ["as_of"]),
    "version not a number": ("{c}", {"version": "latest"}, ["version"]),
    "version and as_of together": (
        "{c}",
        {"version": "1", "as_of": "2026-01-05T09:00:00Z"},
        ["version", "as_of"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_READS), ids=list(BAD_READS))
def test_bad_queries_are_422_problems_naming_the_parameter(shared_api, existing, case):
    path, params, words = BAD_READS[case]
    before = count(shared_api)

    response = shared_api.get(path.format(c=f"/v1/connections/{existing}"), params=params)

    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    for word in words:
        assert word in problem["detail"], problem["detail"]
    assert count(shared_api) == before


BAD_ACTIONS: dict[str, tuple[str, dict[str, Any], list[str]]] = {
    "malformed JSON": (
        "disconnect",
        {"content": b"{reason: 1}", "headers": JSON_HEADERS},
        ["json"],
    ),
    "JSON array": ("disconnect", {"json": ["bye"]}, ["object"]),
    "unknown field": ("disconnect", {"json": {"reason": "x", "force": True}}, ["force"]),
    "reason of wrong type": ("disconnect", {"json": {"reason": 7}}, ["reason"]),
    "reason too long": ("disconnect", {"json": {"reason": "x" * 501}}, ["reason"]),
    "unknown permission level": (
        "confirm_seller_central_user",
        {"json": {"permissions": {"orders": "superuser"}}},
        ["permissions"],
    ),
    "permissions missing": ("confirm_seller_central_user", {"json": {}}, ["permissions"]),
    "body for an action without one": ("activate", {"json": {"now": True}}, ["now"]),
}


@pytest.mark.parametrize("case", list(BAD_ACTIONS), ids=list(BAD_ACTIONS))
def test_bad_action_bodies_are_422_problems_and_change_nothing(shared_api, existing, case):
    action, kwargs, words = BAD_ACTIONS[case]
    before = history(shared_api, existing)

    response = shared_api.post(f"/v1/connections/{existing}/{action}", **kwargs)

    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    for word in words:
        assert word.lower() in problem["detail"].lower(), problem["detail"]
    assert history(shared_api, existing) == before


def test_an_oversized_body_sent_in_chunks_is_refused_too(shared_api, existing):
    body = (
        b'{"owner_email": "o@example.com", "region": "na", "marketplace_ids": '
        b'["ATVPDKIKX0DER"], "metadata": {"note": "' + b"x" * (70 * 1024) + b'"}}'
    )

    def chunks():  # no Content-Length: the limit must hold while streaming
        for i in range(0, len(body), 4096):
            yield body[i : i + 4096]

    before = count(shared_api)
    assert_problem(
        shared_api.post("/v1/connections", content=chunks(), headers=JSON_HEADERS),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert count(shared_api) == before
    events = history(shared_api, existing)
    assert_problem(
        shared_api.post(
            f"/v1/connections/{existing}/disconnect", json={"reason": "x" * (70 * 1024)}
        ),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert history(shared_api, existing) == events


def test_confirm_seller_central_user_without_a_body_is_a_validation_problem(shared_api, existing):
    response = shared_api.post(f"/v1/connections/{existing}/confirm_seller_central_user")
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert "permissions" in problem["detail"]


def test_an_empty_create_body_is_explained(shared_api):
    before = count(shared_api)
    response = shared_api.post("/v1/connections", content=b"", headers=JSON_HEADERS)
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert any(w in problem["detail"].lower() for w in ("body", "object", "required", "empty"))
    assert count(shared_api) == before

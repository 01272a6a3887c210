"""Idempotency-Key: a retry replays the first answer, another body or action is refused,
and a key whose first request died after its commit answers that the outcome is unknown."""

from __future__ import annotations

from datetime import timedelta

from eventsourcing.persistence import OperationalError

from tests.api.helpers import VALID, assert_problem, count, create, history


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

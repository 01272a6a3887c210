"""Input validation: bad bodies, queries and action bodies are 4xx problems naming what
is wrong, never a 500, and create or change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import VALID, assert_problem, count, history
from tests.conftest import LiveService, start_service

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

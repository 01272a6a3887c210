"""Importing an authorization made elsewhere (SPEC §9), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveService, start_service
from tests.credentials.helpers import events_of, token

BODY = {
    "owner_email": "owner@shop.example",
    "region": "na",
    "marketplace_ids": ["ATVPDKIKX0DER"],
    "selling_partner_id": "A1IMPORTED0001",
    "refresh_token": "Atzr|sandbox-A1IMPORTED0001-from-our-old-table",
    "authorized_at": "2025-11-01T10:00:00Z",
}


@pytest.fixture
def served(database_url: str) -> Iterator[LiveService]:
    live = start_service(database_url, RATE_LIMIT_PER_SECOND="0")
    yield live
    live.stop()


def count(served: LiveService) -> int:
    return len(list(served.services.app.recorder.select_notifications(1, 1000)))


def test_an_imported_authorization_starts_api_authorized_with_its_yearly_clock(served, backend):
    answer = backend.post("/v1/connections/import", json=BODY)
    assert answer.status_code == 201, answer.text
    c = answer.json()
    assert c["state"] == "api_authorized"
    assert c["selling_partner_id"] == "A1IMPORTED0001"
    assert c["authorized_at"] == "2025-11-01T10:00:00Z"
    assert c["lapses_at"] == "2026-11-01T10:00:00Z"
    assert BODY["refresh_token"] not in answer.text
    types = [e["type"] for e in events_of(backend, c["id"])]
    assert types == ["connection.invited", "connection.authorization_imported"]
    assert BODY["refresh_token"] not in str(events_of(backend, c["id"]))
    assert token(backend, c["id"]).status_code == 201  # usable at once


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"refresh_token": "Atzr|not-a-token-of-this-app"}, 422, "VALIDATION_ERROR"),
        (
            # An account check that fails in every region (getAccount, which reports an
            # Individual plan, is served only in the EU).
            {"refresh_token": "Atzr|sbx.MARKETPLACE_NOT_PARTICIPATING.A1IMPORTED0001.x"},
            422,
            "MARKETPLACE_NOT_PARTICIPATING",
        ),
        ({"marketplace_ids": ["A1F83G8C2ARO7P"]}, 422, "VALIDATION_ERROR"),
        ({"authorized_at": "2024-01-01T00:00:00Z"}, 422, "REAUTHORIZATION_REQUIRED"),
        ({"authorized_at": "yesterday"}, 422, "VALIDATION_ERROR"),
    ],
)
def test_a_bad_import_is_refused_with_a_clear_detail_and_nothing_is_stored(
    served, backend, change, status, code
):
    before = count(served)
    answer = backend.post("/v1/connections/import", json={**BODY, **change})
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code and answer.json()["detail"]
    assert count(served) == before
    assert "Atzr|" not in answer.text


def test_an_import_honours_idempotency_key_and_refuses_a_second_copy(backend):
    headers = {"Idempotency-Key": "import-1"}
    first = backend.post("/v1/connections/import", json=BODY, headers=headers)
    again = backend.post("/v1/connections/import", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    duplicate = backend.post("/v1/connections/import", json=BODY)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "SELLING_PARTNER_ALREADY_CONNECTED"

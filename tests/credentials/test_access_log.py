"""The access log (SPEC §9): every token issued and every proxied call, never a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from tests.conftest import LiveService, start_service
from tests.credentials.helpers import SCOPES, active, token


@pytest.fixture
def served(database_url: str) -> Iterator[LiveService]:
    live = start_service(database_url, RATE_LIMIT_PER_SECOND="0", ACCESS_LOG_RETENTION="30d")
    yield live
    live.stop()


def test_every_token_and_proxied_call_is_logged_with_who_what_and_amazons_answer(served):
    key = served.services.api_keys.create("tenant_a", SCOPES)
    with httpx.Client(
        base_url=served.url, headers={"Authorization": f"Bearer {key.secret}"}, timeout=30
    ) as backend:
        c = active(backend)
        issued = token(backend, c["id"]).json()["access_token"]
        path = f"/v1/connections/{c['id']}/proxy/sp-api/orders/v0/orders"
        page = backend.get(
            path, params={"MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": "2026-01-01T00:00:00Z"}
        )
        order = page.json()["payload"]["Orders"][0]["AmazonOrderId"]
        backend.get(f"{path}/{order}/address").raise_for_status()
        assert (
            backend.get(f"/v1/connections/{c['id']}/proxy/sp-api/orders/v0/orders").status_code
            == 400
        )
        log = backend.get(f"/v1/connections/{c['id']}/access_log").json()
        export = backend.get("/v1/audit/export").text
        with served.client(tenant="tenant_b", scopes=SCOPES) as other:
            assert other.get(f"/v1/connections/{c['id']}/access_log").status_code == 404
            assert c["id"] not in other.get("/v1/audit/export").text

    entries = log["data"]
    assert [e["kind"] for e in entries] == ["proxy", "proxy", "proxy", "access_token"]
    newest, address, orders, first = entries
    assert first["operation"] == "access_tokens" and first["status"] == 201
    assert first["outcome"] == "refreshed" and first["api"] == "sp-api"
    assert address["operation"] == "/orders/v0/orders/{id}/address"  # no order id kept
    assert order not in json.dumps(entries)
    assert orders["method"] == "GET" and orders["status"] == 200
    assert orders["amazon_request_id"] and orders["duration_ms"] > 0
    assert newest["status"] == 400  # Amazon's refusal (no CreatedAfter) is logged as such
    assert {e["api_key_id"] for e in entries} == {key.record.id}
    assert all(e["request_id"] for e in entries)
    assert issued not in json.dumps(log) and issued not in export
    exported = [json.loads(line) for line in export.splitlines()]
    assert [e["id"] for e in exported if e["object"] == "access_log_entry"] == [
        e["id"] for e in entries
    ]


def test_entries_past_the_retention_are_purged(served):
    with served.client(scopes=SCOPES) as backend:
        c = active(backend)
        token(backend, c["id"]).raise_for_status()
        served.clock.advance(timedelta(days=31))
        token(backend, c["id"]).raise_for_status()
        log = served.services.credentials.access_log
        log._purged_at = -1e9  # due now
        assert log.purge() == 1
        assert len(backend.get(f"/v1/connections/{c['id']}/access_log").json()["data"]) == 1

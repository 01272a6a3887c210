"""One live connection per (tenant, selling partner), kept by the store (SPEC §12), on SQLite
and PostgreSQL: the race's losers answer SELLING_PARTNER_ALREADY_CONNECTED, another tenant
may hold the same seller, and a disconnected connection lets go of its seller."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import LiveService, consent, new_connection, start_service
from tests.credentials.helpers import SCOPES
from tests.credentials.test_import import BODY

CODE = "SELLING_PARTNER_ALREADY_CONNECTED"


def seller() -> str:
    return f"A{uuid.uuid4().hex[:12].upper()}"


def import_body(selling_partner_id: str) -> dict:
    """The import test's body (tests.credentials.test_import.BODY), for this seller."""
    return {
        **BODY,
        "selling_partner_id": selling_partner_id,
        "refresh_token": f"Atzr|sandbox-{selling_partner_id}-from-our-old-table",
    }


@pytest.fixture
def served(database_url: str) -> Iterator[LiveService]:
    live = start_service(database_url, RATE_LIMIT_PER_SECOND="0")
    yield live
    live.stop()


@pytest.fixture
def backend(served: LiveService) -> Iterator[httpx.Client]:
    with served.client(scopes=SCOPES) as client:
        yield client


@pytest.fixture
def read_misses_the_holder(served: LiveService) -> None:
    """The read before the write sees no holder, as when a race passes it: what is left
    to refuse the second holder is the store."""
    served.services.connections.view.connected_elsewhere = lambda *args: None


def live_holders(api: httpx.Client, selling_partner_id: str) -> list[dict]:
    listed = api.get("/v1/connections", params={"selling_partner_id": selling_partner_id})
    return [c for c in listed.json()["data"] if c["state"] != "disconnected"]


def test_concurrent_imports_of_one_seller_into_one_tenant_store_exactly_one(served):
    partner = seller()
    clients = [served.client(scopes=SCOPES) for _ in range(8)]
    start = threading.Barrier(len(clients))

    def attempt(client: httpx.Client) -> httpx.Response:
        start.wait(30)
        return client.post("/v1/connections/import", json=import_body(partner))

    try:
        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            answers = list(pool.map(attempt, clients))
    finally:
        for client in clients:
            client.close()

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 7, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {CODE}
    with served.client(scopes=SCOPES) as backend:
        holders = live_holders(backend, partner)
    assert [h["id"] for h in holders] == [
        next(a.json()["id"] for a in answers if a.status_code == 201)
    ]


def test_the_store_refuses_a_second_import_that_the_read_did_not_catch(
    served, backend, read_misses_the_holder
):
    partner = seller()
    assert backend.post("/v1/connections/import", json=import_body(partner)).status_code == 201
    before = len(list(served.services.app.recorder.select_notifications(1, 10_000)))

    again = backend.post("/v1/connections/import", json=import_body(partner))

    assert again.status_code == 409, again.text
    assert again.json()["code"] == CODE
    assert len(list(served.services.app.recorder.select_notifications(1, 10_000))) == before
    assert len(live_holders(backend, partner)) == 1


def test_the_same_seller_under_two_tenants_is_allowed_and_each_sees_only_its_own(served, backend):
    partner = seller()
    mine = backend.post("/v1/connections/import", json=import_body(partner))
    with served.client("tenant_b", scopes=SCOPES) as other_tenant:
        theirs = other_tenant.post("/v1/connections/import", json=import_body(partner))
        assert theirs.status_code == 201, theirs.text
        assert [c["id"] for c in live_holders(other_tenant, partner)] == [theirs.json()["id"]]
    assert mine.status_code == 201, mine.text
    assert [c["id"] for c in live_holders(backend, partner)] == [mine.json()["id"]]


def test_a_disconnected_connection_lets_its_seller_be_connected_again(
    backend, read_misses_the_holder
):
    partner = seller()
    first = backend.post("/v1/connections/import", json=import_body(partner)).json()
    gone = backend.post(f"/v1/connections/{first['id']}/disconnect", json={"reason": "moved"})
    assert gone.status_code == 200, gone.text

    second = backend.post("/v1/connections/import", json=import_body(partner))
    assert second.status_code == 201, second.text
    # The new connection holds the seller now.
    third = backend.post("/v1/connections/import", json=import_body(partner))
    assert third.status_code == 409 and third.json()["code"] == CODE


def test_amazons_callback_for_a_seller_the_tenant_holds_live_is_refused_the_same_way(
    backend, read_misses_the_holder
):
    partner = seller()
    holder = backend.post("/v1/connections/import", json=import_body(partner)).json()
    c = new_connection(backend)
    url = backend.post(f"/v1/connections/{c['id']}/start_authorization").json()["consent_url"]

    back = consent(backend, url, sandbox_selling_partner_id=partner)

    assert back.json()["succeeded"] is False
    assert back.json()["error"]["code"] == CODE
    refused = backend.get(f"/v1/connections/{c['id']}").json()
    assert refused["state"] == "invited"
    assert refused["selling_partner_id"] is None
    assert refused["last_error"]["code"] == CODE
    assert holder["id"] in refused["last_error"]["detail"]
    events = backend.get(f"/v1/connections/{c['id']}/events").json()["data"]
    assert [e["type"] for e in events][-1] == "connection.authorization_failed"
    assert [h["id"] for h in live_holders(backend, partner)] == [holder["id"]]


def test_the_connection_says_where_its_selling_partner_id_came_from(backend):
    imported = backend.post("/v1/connections/import", json=import_body(seller())).json()
    assert imported["selling_partner_id_source"] == "import"

    c = new_connection(backend)
    assert c["selling_partner_id_source"] is None
    url = backend.post(f"/v1/connections/{c['id']}/start_authorization").json()["consent_url"]
    assert consent(backend, url, sandbox_selling_partner_id=seller()).json()["succeeded"]
    consented = backend.get(f"/v1/connections/{c['id']}").json()
    assert consented["selling_partner_id_source"] == "consent"

    for connection, kind, source in (
        (imported, "connection.authorization_imported", "import"),
        (consented, "connection.api_authorized", "consent"),
    ):
        events = backend.get(f"/v1/connections/{connection['id']}/events").json()["data"]
        recorded = next(e for e in events if e["type"] == kind)
        assert recorded["data"]["selling_partner_id_source"] == source

"""A create goes down and comes back, never back up: the route asks the idempotency
record (service.api.idempotency.begin), then the service, then answers through the record;
the commit tells whoever listens (ConnectionsApp.commit_listeners, registered by the
composition root) instead of calling into a capability."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.connection import Connection, Context
from service.connections.application import ConnectionsApp
from service.container import build
from tests.conftest import make_settings

BODY = {"owner_email": "owner@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}


def test_a_refused_create_gives_its_idempotency_key_back(live_sqlite):
    with live_sqlite.client() as api:
        body = {**BODY, "return_url": "https://unregistered.example/after"}
        headers = {"Idempotency-Key": "refused-once"}
        first = api.post("/v1/connections", json=body, headers=headers)
        again = api.post("/v1/connections", json=body, headers=headers)
        assert first.status_code == 422, first.text
        # Not "still in progress" (409): the refused request released its key.
        assert (again.status_code, again.json()["code"]) == (422, first.json()["code"])
        created = api.post("/v1/connections", json=BODY, headers={"Idempotency-Key": "ok"})
        replay = api.post("/v1/connections", json=BODY, headers={"Idempotency-Key": "ok"})
        assert created.status_code == replay.status_code == 201
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == created.json()


def test_commit_listeners_hear_each_commit_that_recorded_events():
    app = ConnectionsApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    heard: list[str] = []
    app.commit_listeners += [
        lambda *ids: heard.append(("waker", ids)),
        lambda *ids: heard.append(("memory", ids)),
    ]
    c = Connection.invite(
        Context(actor="user_1", at=datetime(2026, 1, 5, tzinfo=UTC), request_id="req_1"),
        tenant_id="tenant_a",
        **BODY,
    )
    assert app.store(c) == 1
    assert app.store(c) is None  # nothing pending: no commit, nobody told
    assert heard == [("waker", (str(c.id),)), ("memory", (str(c.id),))]
    app.close()


def test_the_composition_root_registers_the_worker_waker_and_the_token_memory(sqlite_url):
    services = build(make_settings(sqlite_url))
    try:
        assert services.app.commit_listeners == [
            services.waker.wake,
            services.credentials.tokens.memory.recorded,
        ]
    finally:
        services.close()

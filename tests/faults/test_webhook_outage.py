"""The webhook receiver goes down (its port closed), comes back, then answers 503 with
Retry-After for a while: every event still arrives, signed, and every delivery ends
`succeeded`. Deliveries come from the durable outbox, so none is lost on the way."""

from __future__ import annotations

import time
from uuid import UUID

import httpx

from domain.connection import EVENT_TYPES
from service.connections.presenters import event_id
from tests.faults import checks, figures
from tests.faults.load import Load
from tests.faults.receiver import WebhookReceiver

# A delivery's first failure is retried 5 s (±10%) later: a closed port for under 4.5 s
# means that retry finds the receiver back. Its next retry would come 5 minutes later,
# beyond any test, so in the 503 phase the receiver sets the pace (Retry-After: 1), and
# each round starts once everything before it was delivered.
DOWN = 4.0 if figures.LONG else 3.0
MAINTENANCE = 30.0 if figures.LONG else 5.0
ROUNDS = 3 if figures.LONG else 1


def events_in_store(store) -> set[str]:
    """Webhook ids of every event the outbox should deliver."""
    return {
        event_id(UUID(cid), v)
        for cid in checks.connections_in_store(store)
        for v, e in enumerate(store.app.events.get(UUID(cid)), start=1)
        if type(e) in EVENT_TYPES
    }


def wait_until_delivered(store, receiver: WebhookReceiver, timeout: float = 90) -> set[str]:
    expected = events_in_store(store)
    deadline = time.monotonic() + timeout
    while not expected <= receiver.delivered() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert expected - receiver.delivered() == set()
    return expected


def test_every_webhook_arrives_after_the_receiver_was_down_and_in_maintenance(
    store, service_factory, pg_schema_url
):
    receiver = WebhookReceiver().start()
    service = service_factory(pg_schema_url)
    key = store.api_keys.create(
        "tenant_hooks", ["connections:read", "connections:write", "webhooks:manage"]
    ).secret
    endpoint = httpx.post(
        f"{service.url}/v1/webhook_endpoints",
        json={"url": receiver.url},
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    receiver.secret = endpoint["secret"]

    # One event a second: the dispatcher sends at most 2 per endpoint per worker pass
    # (1 s), so a faster stream would only build a backlog to wait out.
    load = Load(service.url, key, clients=1, pause=1.0).start()
    for round_ in range(ROUNDS):
        if round_:
            wait_until_delivered(store, receiver)
        time.sleep(1)
        receiver.stop()
        time.sleep(DOWN)
        receiver.start()
        receiver.maintenance = True
        time.sleep(MAINTENANCE)
        receiver.maintenance = False
    load.stop()

    expected = wait_until_delivered(store, receiver)
    assert all(d.signed for d in receiver.received)
    deliveries = checks.deliveries(service.url, key, endpoint["id"])
    assert {d["event_id"] for d in deliveries} == expected
    assert all(d["status"] == "succeeded" for d in deliveries), [
        d for d in deliveries if d["status"] != "succeeded"
    ][:3]
    receiver.stop()

    refused = sum(1 for d in deliveries for a in d["attempts"] if a["status_code"] is None)
    figures.record(
        "webhook_receiver_down",
        faults_injected=2 * ROUNDS,
        down_seconds=DOWN,
        maintenance_seconds=MAINTENANCE,
        events=len(expected),
        deliveries_lost=0,
        attempts=sum(d["attempt_count"] for d in deliveries),
        attempts_refused=refused,
        attempts_503=sum(1 for d in receiver.received if d.status == 503),
        requests_answered=len(load.outcomes),
    )

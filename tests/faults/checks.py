"""What must hold after a fault, read straight from the store (not through the service)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from uuid import UUID

import httpx
from eventsourcing.application import AggregateNotFoundError

from domain.connection import Connection
from service.container import Services
from tests.faults.load import Ack


def lost(store: Services, acks: Iterable[Ack]) -> list[Ack]:
    """Acknowledged commands whose effect is not in the event store: the connection
    replayed up to the acknowledged version must be at that version, in that state."""
    missing = []
    for ack in acks:
        try:
            c = store.app.repository.get(UUID(ack.connection_id), version=ack.version)
        except AggregateNotFoundError:
            missing.append(ack)
            continue
        if (c.version, c.state) != (ack.version, ack.state):
            missing.append(ack)
    return missing


def connections_in_store(store: Services) -> dict[str, Connection]:
    """Every connection the event log names, loaded from its events."""
    ids, start = set(), 1
    while batch := store.app.recorder.select_notifications(start=start, limit=1000):
        ids |= {n.originator_id for n in batch if "Connection" in n.topic}
        start = batch[-1].id + 1
    return {str(i): store.app.repository.get(i) for i in ids}


def wait_until_caught_up(url: str, timeout: float = 60) -> dict:
    """/readyz once the read model has no lag (the restarted worker caught up by itself)."""
    deadline = time.monotonic() + timeout
    while True:
        ready = httpx.get(f"{url}/readyz", timeout=10)
        if ready.status_code == 200 and ready.json()["read_model_lag"] == 0:
            return ready.json()
        if time.monotonic() > deadline:
            raise AssertionError(f"the read model did not catch up: {ready.text}")
        time.sleep(0.2)


def deliveries(url: str, api_key: str, endpoint_id: str) -> list[dict]:
    """Every delivery of the endpoint, through the API, all pages."""
    found, after = [], None
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    ) as api:
        while True:
            page = api.get(
                f"/v1/webhook_endpoints/{endpoint_id}/deliveries",
                params={"limit": 100, **({"starting_after": after} if after else {})},
            )
            found += page.json()["data"]
            if not page.json()["has_more"]:
                return found
            after = page.json()["next_cursor"]


def stale_read_models(store: Services, connections: dict[str, Connection]) -> list[str]:
    """Connections whose row in the read model is missing or at another version."""
    rows = {r.id: r for r in store.view.rows(list(connections))}
    return [
        cid
        for cid, c in connections.items()
        if cid not in rows or (rows[cid].version, rows[cid].state) != (c.version, c.state)
    ]

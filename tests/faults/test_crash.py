"""`kill -9` of the server under concurrent load: whatever it acknowledged is in the event
store, every connection loads through the restarted server, and the read model catches up
by itself with nothing left behind."""

from __future__ import annotations

import random
import re
import time

import httpx

from tests.faults import checks, figures
from tests.faults.load import Load

KILLS = 10 if figures.LONG else 3
LOAD_SECONDS = (1.0, 4.0) if figures.LONG else (0.5, 2.0)  # before each kill, at random


def commands_beyond_one_per_commit(url: str) -> float:
    """From the server's metrics: commands written so far minus transactions that wrote
    them (more than 0 once a transaction carried several, service.connections.group_commit)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = dict(re.findall(r"^event_store_commit_commands_(sum|count) (\S+)$", text, re.M))
    return float(found.get("sum", 0)) - float(found.get("count", 0))


def test_acknowledged_commands_survive_kill_9_under_load(store, service_factory, pg_schema_url):
    service = service_factory(pg_schema_url)
    key = store.api_keys.create("tenant_crash", ["connections:read", "connections:write"]).secret
    rng = random.Random(9)
    loads, grouped = [], 0
    for _ in range(KILLS):
        # Half the clients' creates carry no Idempotency-Key: those commands are made on
        # the server's event loop and written by its group commit (LoopBatcher), so kills
        # land mid-batch there too.
        load = Load(service.url, key, keyless_creates=True).start()
        time.sleep(rng.uniform(*LOAD_SECONDS))
        grouped += commands_beyond_one_per_commit(service.url)
        service.kill()  # mid-request for some clients, mid-commit (mid-batch) for others
        loads.append(load.stop())
        service.start()

    acks = [a for load in loads for a in load.acks]
    assert acks and checks.lost(store, acks) == []
    assert grouped > 0  # commands were being written in batches (group commit) when killed

    checks.wait_until_caught_up(service.url)
    connections = checks.connections_in_store(store)
    assert {a.connection_id for a in acks} <= connections.keys()
    with httpx.Client(
        base_url=service.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as api:
        for cid, c in connections.items():
            loaded = api.get(f"/v1/connections/{cid}")
            assert loaded.status_code == 200, loaded.text
            assert loaded.json()["version"] == c.version
    assert checks.stale_read_models(store, connections) == []

    figures.record(
        "kill_9",
        faults_injected=KILLS,
        requests_answered=sum(o.status is not None for load in loads for o in load.outcomes),
        acknowledged=len(acks),
        acknowledged_lost=0,
        connections=len(connections),
        requests_unanswered=sum(o.status is None for load in loads for o in load.outcomes),
    )

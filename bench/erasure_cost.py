"""What the per-connection data keys cost a create and a GET: `python -m bench.erasure_cost`
(in `make bench`, after bench.http; about a minute).

Issue #27 bounds it: a per-connection key must not cost a create more than 10 %. A
server's throughput on this shared two-core machine swings more than that between runs,
so this measures process CPU, which is steady, in one process, the build as it runs
against the same build with the mapper's data keys unset (personal values then stored as
they are, salts and commitments included: for measuring only), so that the difference is
what the keys themselves cost. The two take turns in blocks of `N` connections (250),
`BLOCKS` (12) each, so that the machine's slow minutes and the process's warming hit both
alike. A block measures:
- the command: N creates as POST /v1/connections makes them (on the event loop, 8 at a
  time, through the loop's group commit, the response's body rendered);
- the followers every event then passes through (the read model, the webhook outbox, the
  mail outbox: one worker pass to the head);
- a GET of each as the route makes it (its body rendered by this process already), and
  as it costs when this process has not rendered that version (the read model's sealed
  document opened).
Each create carries personal values in every field that holds them: owner_email,
invited_by (name and e-mail) and two metadata values. Medians, differences, and the
difference as a share of what the server spends on a create and a GET over HTTP in
bench.http's last run, to stdout and bench/erasure_cost.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from typing import Any

from bench.in_process import caller, services_on_fresh_schema
from service.connections.presenters import connection_json
from service.workers.worker import Worker

MODES = ("on", "off")  # the build as it runs; the same with the mapper's data keys unset


def spec(i: int) -> dict:
    return {
        "owner_email": f"owner{i}@example.com",
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        "invited_by": {"name": f"Agent {i}", "email": f"agent{i}@agency.example"},
        "metadata": {"crm_id": f"crm-{i}", "account_manager": f"Manager {i}"},
    }


def measure(base: str, n: int, blocks: int) -> dict[str, list]:
    """CPU per connection of each block of `n` creates (and their reads), the modes taking
    turns block by block in one process, so that the machine's slow minutes and the
    process's warming hit both alike."""
    runs: dict[str, list] = {mode: [] for mode in MODES}
    with services_on_fresh_schema(base) as services:
        connections, mapper = services.connections, services.app.mapper
        keys = mapper.keys
        worker = Worker(services)
        for i in range(100):  # warm: the tables, the spare data keys, the caches
            connections.create(caller(i), **spec(i))
        while worker.run_once(timed=False):
            pass
        try:
            for block in range(blocks * len(MODES)):
                mode = MODES[block % len(MODES)]
                mapper.keys = keys if mode == "on" else None
                runs[mode].append(_block(services, worker, n))
        finally:
            mapper.keys = keys
    return runs


def _block(services: Any, worker: Worker, n: int) -> dict[str, float]:
    connections = services.connections

    async def creates() -> list[Any]:
        # As POST /v1/connections makes them: on the event loop, 8 at a time (wrk's
        # connections in bench.http), their commands joining the loop's group commit.
        slots = asyncio.Semaphore(8)

        async def one(i: int) -> Any:
            async with slots:
                connection = await connections.create_async(caller(i), **spec(i))
                connections.json(connection)  # the response's body, as the route renders it
                connections.app.remember(connection)
                return connection

        return await asyncio.gather(*(one(i) for i in range(n)))

    began = time.process_time()
    made = asyncio.run(creates())
    command = time.process_time() - began

    began = time.process_time()
    while worker.run_once(timed=False):
        pass
    followers = time.process_time() - began

    ids = [str(c.id) for c in made]

    async def reads() -> None:
        for i, connection_id in enumerate(ids):
            body = await connections.get_json_async(caller(i), connection_id)
            if body is None:  # a store without the loop's reads: as the route does
                body = connections.json(connections.get(caller(i), connection_id))
            assert body["owner_email"] == f"owner{i}@example.com", body["owner_email"]

    began = time.process_time()
    asyncio.run(reads())
    get = time.process_time() - began

    # What a GET or a list page costs when this process has not rendered the version:
    # the read model's row, its sealed document opened, the body rendered.
    began = time.process_time()
    for i, connection_id in enumerate(ids):
        row = connections.view.get("tenant_bench", connection_id)
        body = connection_json(connections.projection.from_row(row))
        assert body["owner_email"] == f"owner{i}@example.com", body["owner_email"]
    rendered = time.process_time() - began

    per = 1000 / n
    return {
        "command_ms": command * per,
        "followers_ms": followers * per,
        "create_ms": (command + followers) * per,
        "get_ms": get * per,
        "get_unrendered_ms": rendered * per,
    }


def of_http(cost: dict[str, float], path: str) -> dict[str, Any]:
    """The keys' cost as a share of what the server spends on the request over HTTP, all
    its processes (bench.http's `server_cpu_ms_per_request`; `make bench` runs it first):
    issue #27's bound is on a create as a user makes one, litestar and all."""
    with open(path) as f:
        http = json.load(f)
    runs = http["runs"]
    create, get = (runs[k]["server_cpu_ms_per_request"] for k in ("create", "get"))
    return {
        "http_run_started_at": http.get("started_at"),
        "http_server_cpu_ms": {"create": create, "get": get},
        "create": round(cost["create_ms"] / create, 3),
        "get": round(cost["get_ms"] / get, 3),
        "get_unrendered": round(cost["get_unrendered_ms"] / get, 3),
    }


def main() -> int:
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    n, blocks = int(os.environ.get("N", "250")), int(os.environ.get("BLOCKS", "12"))
    runs = measure(base, n, blocks)
    medians = {
        mode: {k: round(statistics.median(r[k] for r in rs), 3) for k in rs[0]}
        for mode, rs in runs.items()
    }
    out: dict = {"n": n, "blocks": blocks, "median_cpu_ms_per_connection": medians}
    on, off = medians["on"], medians["off"]
    out["keys_cost_ms"] = {k: round(on[k] - off[k], 3) for k in on}
    out["keys_cost_share"] = {k: round(on[k] / off[k] - 1, 3) for k in on}
    http = os.environ.get("BENCH_HTTP_OUTPUT", "bench/http.json")
    if os.path.exists(http):
        out["keys_cost_share_of_http"] = of_http(out["keys_cost_ms"], http)
    print(json.dumps(out, indent=2))
    path = os.environ.get("BENCH_ERASURE_OUTPUT", "bench/erasure_cost.json")
    if path:
        with open(path, "w") as f:
            json.dump({**out, "runs": runs}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

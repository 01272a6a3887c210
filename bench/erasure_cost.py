"""What sealing personal values costs a create and a GET, in one process:
`python -m bench.erasure_cost` (in `make bench`; about two minutes).

Issue #27 bounds it: a per-connection key must not cost a create more than 10 %. A
server's throughput on this shared two-core machine swings more than that between runs,
so this measures process CPU, which is steady, for what a create costs the whole
service: the command (N creates, 8 at a time, through group commit) and the followers
that every event then passes through (the read model, the webhook outbox, the mail
outbox: one worker pass to the head). Then N reads of a connection's latest version on
the event loop, as GET /v1/connections/{id} makes them. `ROUNDS` rounds (5), each on a
fresh schema.

Each round measures the build twice, interleaved: as it runs, and with the mapper's data
keys unset (personal values then stored as they are, salts included: for measuring only),
so the difference is what the per-connection keys themselves cost; medians and
differences to stdout and bench/erasure_cost.json. `BENCH_KEYS=on-only` skips the second
(for a checkout before erasure, which has no keys). Compare two checkouts with the same
script: `cd /tmp/somewhere && PYTHONPATH=<checkout>
python /work/main/bench/erasure_cost.py` (it uses only what the service had before
erasure existed). Each create carries personal values in every field that holds them:
owner_email, invited_by (name and e-mail) and two metadata values.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg

from service.api.caller import Caller
from service.container import build
from service.settings import Settings
from service.workers.worker import Worker

SECRET_KEY = "bench-secret-key-bench-secret-key-bench"


def spec(i: int) -> dict:
    return {
        "owner_email": f"owner{i}@example.com",
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        "invited_by": {"name": f"Agent {i}", "email": f"agent{i}@agency.example"},
        "metadata": {"crm_id": f"crm-{i}", "account_manager": f"Manager {i}"},
    }


def caller(i: int) -> Caller:
    return Caller(tenant_id="tenant_bench", actor="bench", request_id=f"r{i}")


def one_round(base: str, n: int, keys: bool = True) -> dict[str, float]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    env = {
        "DATABASE_URL": f"{base}?schema={schema}",
        "SANDBOX": "1",
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "RUN_WORKER": "0",
    }
    services = build(Settings.from_env(env))
    connections = services.connections
    worker = Worker(services)
    if not keys:
        services.app.mapper.keys = None
    try:
        for i in range(50):  # warm: the tables, the spare data keys, the caches
            connections.create(caller(i), **spec(i))
        while worker.run_once(timed=False):
            pass

        began = time.process_time()
        with ThreadPoolExecutor(8) as pool:
            made = list(pool.map(lambda i: connections.create(caller(i), **spec(i)), range(n)))
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
    finally:
        services.close()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    per = 1000 / n
    return {
        "command_ms": command * per,
        "followers_ms": followers * per,
        "create_ms": (command + followers) * per,
        "get_ms": get * per,
    }


def main() -> int:
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    n, rounds = int(os.environ.get("N", "1000")), int(os.environ.get("ROUNDS", "5"))
    modes = ("on",) if os.environ.get("BENCH_KEYS") == "on-only" else ("on", "off")
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    for _ in range(rounds):  # the modes interleaved, so a busy minute hits both
        for mode in modes:
            runs[mode].append(one_round(base, n, keys=mode == "on"))
    medians = {
        mode: {k: round(statistics.median(r[k] for r in rs), 3) for k in rs[0]}
        for mode, rs in runs.items()
    }
    out: dict = {"n": n, "rounds": rounds, "median_cpu_ms_per_connection": medians}
    if "off" in medians:
        on, off = medians["on"], medians["off"]
        out["keys_cost_ms"] = {k: round(on[k] - off[k], 3) for k in on}
        out["keys_cost_share"] = {k: round(on[k] / off[k] - 1, 3) for k in on}
    print(json.dumps(out, indent=2))
    path = os.environ.get("BENCH_ERASURE_OUTPUT", "bench/erasure_cost.json")
    if path:
        with open(path, "w") as f:
            json.dump({**out, "runs": runs}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

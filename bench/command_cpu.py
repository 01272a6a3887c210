"""The command path alone, in one process: `python -m bench.command_cpu` (not part of
`make bench`; under a minute). No HTTP, no followers (the worker is not run): the
process's CPU per create, 8 at a time, through the threads' group commit
(`ConnectionService.create` in a pool of 8) and, where this checkout has it, through the
loop's (`create_async`, 8 awaited at once). CPU time in one process is far steadier than
a server's throughput on a shared machine; run it from two checkouts to compare them
(`cd OTHER && PYTHONPATH=. python path/to/bench/command_cpu.py`). `N` commands (1,500).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg

from bench.server import SECRET_KEY
from service.api.caller import Caller
from service.container import build
from service.settings import Settings

SPEC = {"owner_email": "owner@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}


def caller(i: int) -> Caller:
    return Caller(tenant_id="tenant_bench", actor="bench", request_id=f"r{i}")


def main() -> int:
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    n = int(os.environ.get("N", "1500"))
    # bench.in_process's services_on_fresh_schema, written out: this script also runs
    # against older checkouts (PYTHONPATH=OTHER), whose bench/ has no such module.
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
    try:
        for i in range(50):  # warm: the tables, the data keys' spares, the caches
            connections.create(caller(i), **SPEC)
        began = time.process_time()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: connections.create(caller(i), **SPEC), range(n)))
        print(f"threads: {(time.process_time() - began) / n * 1000:.3f} ms CPU per create")
        if hasattr(connections, "create_async"):

            async def on_the_loop() -> None:
                gate = asyncio.Semaphore(8)

                async def one(i: int) -> None:
                    async with gate:
                        await connections.create_async(caller(i), **SPEC)

                await asyncio.gather(*(one(i) for i in range(n)))

            began = time.process_time()
            asyncio.run(on_the_loop())
            print(f"loop:    {(time.process_time() - began) / n * 1000:.3f} ms CPU per create")
    finally:
        services.close()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

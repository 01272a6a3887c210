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
import importlib.util
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Run by path (as against another checkout), Python puts bench/ first on sys.path, where
# bench/http.py would stand in for the standard library's http: the folder goes again.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
# bench.in_process, read from beside this file: this script also runs against older
# checkouts (PYTHONPATH=OTHER), whose bench/ has no such module.
_spec = importlib.util.spec_from_file_location(
    "in_process", Path(__file__).with_name("in_process.py")
)
assert _spec is not None and _spec.loader is not None
in_process = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(in_process)
caller = in_process.caller

SPEC = {"owner_email": "owner@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}


def main() -> int:
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    n = int(os.environ.get("N", "1500"))
    with in_process.services_on_fresh_schema(base) as services:
        return _measure(services, n)


def _measure(services: Any, n: int) -> int:
    connections = services.connections
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

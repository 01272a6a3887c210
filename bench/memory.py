"""Resident memory of the server process over many commands.

It runs after the command and read runs, so the server is warm: every route, the
event store's pools, the worker. Then `commands` commands (a mix: create a connection,
then `start_authorization` on it nine times) at the target concurrency, sampling the
server's RSS every second.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.load import LoadProcess
from bench.server import Server

REPEAT = 9  # actions per created connection: ten commands, a ten-event history each


def measure(
    load: LoadProcess, server: Server, key: str, commands: int, clients: int
) -> dict[str, Any]:
    server.settle()
    before = server.rss_bytes()
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    began = time.monotonic()

    def sample() -> None:
        while not stop.wait(1.0):
            samples.append((round(time.monotonic() - began, 1), server.rss_bytes()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu = server.cpu_seconds()
    try:
        run = load.run(
            {
                "kind": "http",
                "op": "lifecycle",
                "repeat": REPEAT,
                "total": commands,
                "url": server.url,
                "api_key": key,
                "clients": clients,
                "seconds": 24 * 3600,
            }
        )
    finally:
        stop.set()
        sampler.join()
    run["server_cpu_ms_per_op"] = round((server.cpu_seconds() - cpu) / max(run["ok"], 1) * 1000, 3)
    after = server.rss_bytes()
    lag = server.readiness()[0]
    catch_up = server.settle(timeout=300)  # the worker has done its part for every command
    settled = server.rss_bytes()
    step = max(1, len(samples) // 30)
    return {
        "commands": commands,
        "clients": clients,
        "rss_before_mb": _mb(before),
        "rss_after_mb": _mb(after),
        "rss_after_projection_mb": _mb(settled),
        "rss_peak_mb": _mb(max([after, settled, *[rss for _, rss in samples]])),
        "growth_pct": round((max(after, settled) - before) / before * 100, 2),
        "read_model_lag_after": lag,  # events the worker had not projected when the run ended
        "catch_up_s": catch_up,  # then the time it took to finish (None: not within 5 min)
        "samples": [(t, _mb(rss)) for t, rss in samples[::step]],
        "run": run,
    }


def _mb(n: int) -> float:
    return round(n / 2**20, 1)

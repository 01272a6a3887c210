"""Rebuild rate of the read model: `services.projection.rebuild()` over the whole log.

The log already holds what the earlier phases wrote; it is topped up to `events` with
connections of ten events each (vendor: invited, authorized, warnings), built and saved
in bulk by two processes at once. The server is stopped by then, so the rebuild runs
alone: it rewinds the `connections_view` projection and applies every event again.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench.seed import Seeder, open_app
from bench.server import service_env
from service.container import build
from service.settings import Settings

EVENTS_PER_CONNECTION = 10
CHUNK = 20_000  # events per generating task


def generate(url: str, events: int) -> int:
    """Runs in a generator process: `events` events, 100 connections per transaction."""
    app = open_app(url)
    try:
        seeder = Seeder(app)
        seeder.many(
            lambda: seeder.warned(EVENTS_PER_CONNECTION), events // EVENTS_PER_CONNECTION, batch=100
        )
        return events // EVENTS_PER_CONNECTION * EVENTS_PER_CONNECTION
    finally:
        app.close()


def measure(url: str, events: int, processes: int = 2) -> dict[str, Any]:
    services = build(Settings.from_env(service_env(url, 8000)))
    try:
        present = services.app.recorder.max_notification_id() or 0
        missing = max(0, events - present)
        began = time.perf_counter()
        chunks = [CHUNK] * (missing // CHUNK) + ([missing % CHUNK] if missing % CHUNK else [])
        with ProcessPoolExecutor(processes) as pool:
            generated = sum(pool.map(generate, [url] * len(chunks), chunks))
        generating = time.perf_counter() - began
        began = time.perf_counter()
        applied = services.projection.rebuild()
        rebuilding = time.perf_counter() - began
    finally:
        services.close()
    return {
        "events": applied,
        "seconds": round(rebuilding, 2),
        "events_per_second": round(applied / rebuilding, 1) if rebuilding else 0.0,
        "generated": generated,
        "generated_per_second": round(generated / generating, 1) if generated else None,
    }

"""Replay: how long loading one connection takes, by the length of its history.

Histories are built in-process (a vendor connection: invited, authorized, then warnings),
saved in batches through the service's `ConnectionsApp`, which snapshots every 50 events.
"With snapshots" loads from the store as the service does on a cache miss; "without" loads
the same connection with an application that reads no snapshots, replaying every event;
both have the aggregate cache off. "Cached" is the service's warm path: the aggregate
from its cache, fast-forwarded by the events recorded since. The worst case for snapshots
is 49 events past the last one, so a history 49 events longer than the longest is added.
"""

from __future__ import annotations

import statistics
import time
from typing import Any
from uuid import UUID

from bench.seed import Seeder, open_app
from service.connections.application import ConnectionsApp

WORST_OFFSET = 49


class EventsOnlyApp(ConnectionsApp):
    """The same stored events, loaded without snapshots (none read, none taken)."""

    name = ConnectionsApp.name  # the same tables: eventsourcing names them after the app
    snapshotting_intervals = {}  # noqa: RUF012 - the library's class attribute


def measure(url: str, lengths: tuple[int, ...], budget: float = 6.0) -> list[dict[str, Any]]:
    """Builds one connection per length (and one 49 events past the longest), then times
    loads of all of them in turns, so drift on the machine touches every figure alike."""
    apps = {
        "with_snapshots_ms": open_app(url, cache=False),
        "without_snapshots_ms": open_app(url, EventsOnlyApp, cache=False),
        "cached_ms": open_app(url),
    }
    assert apps["without_snapshots_ms"].snapshots is None, "IS_SNAPSHOTTING_ENABLED is set"
    seeder = Seeder(apps["with_snapshots_ms"])
    try:
        cases = [
            (n, "exactly at a snapshot" if n % 50 == 0 else "no snapshot yet") for n in lengths
        ]
        cases.append((lengths[-1] + WORST_OFFSET, f"{WORST_OFFSET} events past a snapshot"))
        ids = [UUID(seeder.history(n)) for n, _ in cases]
        times: dict[tuple[int, str], list[float]] = {}
        started = time.perf_counter()
        rounds = 0
        while rounds < 3 or (time.perf_counter() - started < budget and rounds < 100):
            rounds += 1
            for i, key in enumerate(ids):
                for mode, app in apps.items():
                    times.setdefault((i, mode), []).extend(_loads(app, key))
    finally:
        for app in apps.values():
            app.close()
    return [
        {
            "events": n,
            "note": note,
            "loads": len(times[(i, "with_snapshots_ms")]),
            **{mode: round(statistics.median(times[(i, mode)]) * 1000, 3) for mode in apps},
        }
        for i, (n, note) in enumerate(cases)
    ]


def _loads(app: ConnectionsApp, key: UUID, least: float = 0.05) -> list[float]:
    """Loads the connection once, or repeatedly for at least `least` seconds, as the
    service does (its one loader, ConnectionsApp.load_without_tenant_check)."""
    times: list[float] = []
    while not times or sum(times) < least:
        began = time.perf_counter()
        app.load_without_tenant_check(key)
        times.append(time.perf_counter() - began)
    return times

"""What a run measures and for how long, from BENCH_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw.replace("_", "")) if raw.strip() else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    return float(raw) if raw.strip() else default


@dataclass(frozen=True)
class Config:
    quick: bool
    stores: tuple[str, ...]
    postgres_url: str
    clients: tuple[int, ...]
    seconds: float  # each measured load run (commands, reads, ceilings)
    commands: int  # the memory run
    rebuild_events: int
    # The issue sizes the memory and rebuild runs for PostgreSQL; SQLite runs a share of
    # them in full mode, so the whole run stays under half an hour on two cores.
    sqlite_share: float
    client: str  # the load process's HTTP client: stdlib (http.client) or httpx
    # `connections serve --workers`: one process per core on PostgreSQL (the setting the
    # README recommends), one on SQLite (the embedded default: one file, one writer).
    postgres_workers: int
    histories: tuple[int, ...] = (10, 1_000, 10_000)
    target_clients: int = 8
    output: str = "bench/results.json"
    env: dict[str, str] = field(default_factory=dict)

    def server_workers(self, kind: str) -> int:
        return self.postgres_workers if kind == "postgres" else 1

    def sizes(self, kind: str) -> tuple[int, int]:
        """(commands for the memory run, events for the rebuild) on this store."""
        share = self.sqlite_share if kind == "sqlite" else 1.0
        return int(self.commands * share), int(self.rebuild_events * share)

    @classmethod
    def from_env(cls) -> Config:
        quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
        stores = tuple(
            s.strip()
            for s in os.environ.get("BENCH_STORES", "postgres,sqlite").split(",")
            if s.strip()
        )
        unknown = set(stores) - {"postgres", "sqlite"}
        if unknown:
            raise SystemExit(f"BENCH_STORES: expected postgres and/or sqlite, got {unknown}")
        client = os.environ.get("BENCH_CLIENT", "stdlib")
        if client not in ("stdlib", "httpx"):
            raise SystemExit(f"BENCH_CLIENT: expected stdlib or httpx, got {client!r}")
        shown = {k: v for k, v in os.environ.items() if k.startswith("BENCH_")}
        return cls(
            quick=quick,
            stores=stores,
            postgres_url=os.environ.get(
                "BENCH_DATABASE_URL",
                os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
            ),
            clients=tuple(int(c) for c in os.environ.get("BENCH_CLIENTS", "1,8,32").split(",")),
            seconds=_float("BENCH_SECONDS", 1.0 if quick else 4.0),
            commands=_int("BENCH_COMMANDS", 2_000 if quick else 100_000),
            rebuild_events=_int("BENCH_REBUILD_EVENTS", 20_000 if quick else 1_000_000),
            client=client,
            postgres_workers=_int("BENCH_SERVER_WORKERS", os.cpu_count() or 1),
            sqlite_share=_float("BENCH_SQLITE_SHARE", 1.0 if quick else 0.2),
            env=shown,
        )

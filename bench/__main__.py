"""`python -m bench` (`make bench`): every figure beside its ceiling, per store.

For each store (a fresh PostgreSQL schema, a fresh SQLite file):
ceilings → seed → serve → commands → reads → memory → stop → replay → rebuild.
Progress goes to stderr; the table to stdout and, with every number, to results.json.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench import ceiling, memory, rebuild, replay, report, workloads
from bench.config import Config
from bench.load import LoadProcess
from bench.seed import Seeder, open_app
from bench.server import Server, Store, fresh_store


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def run_store(config: Config, store: Store, load: LoadProcess) -> dict[str, Any]:
    out: dict[str, Any] = {"phase_seconds": {}}
    commands, rebuild_events = config.sizes(store.kind)
    clock = time.monotonic()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        out["phase_seconds"][name] = round(now - clock, 1)
        clock = now

    out["durability"] = ceiling.durability(store.kind, store.url)
    synchronous = out["durability"].get("synchronous")
    out["ceiling"] = ceiling.measure(
        load,
        store.kind,
        config.postgres_url,
        store.ceiling_target,
        synchronous,
        config.clients,
        config.seconds,
    )
    for variant, runs in out["ceiling"].items():
        progress(
            f"{variant}: "
            + ", ".join(
                f"{c} clients: {r['per_second']}/s p99 {r['p99_ms']} ms" for c, r in runs.items()
            )
        )
    phase("ceiling")

    plan = workloads.plan(config)
    app = open_app(store.url)
    try:
        made = workloads.seed(Seeder(app), plan, config.seconds)
    finally:
        app.close()
    progress(f"seeded {made:,} connections")
    phase("seed")

    log_path = os.path.join(tempfile.gettempdir(), f"bench-server-{store.kind}.log")
    server = Server(store.url, log_path, workers=config.server_workers(store.kind))
    out["server_workers"] = server.workers
    try:
        key = server.api_key()
        out["startup_settle_s"] = server.settle(timeout=900)
        progress(
            f"serving on {server.url} ({server.workers} process(es), pid {server.pid}, "
            f"log {log_path})"
        )
        phase("start")
        out["commands"] = workloads.commands(load, server, key, plan, config.seconds, progress)
        phase("commands")
        out["reads"] = workloads.reads(load, server, key, plan, config, progress)
        phase("reads")
        progress(f"memory: {commands:,} commands at {config.target_clients} clients")
        out["memory"] = memory.measure(load, server, key, commands, config.target_clients)
        progress(f"memory: {out['memory']['rss_before_mb']} → {out['memory']['rss_after_mb']} MB")
        phase("memory")
    finally:
        server.stop()

    out["replay"] = replay.measure(store.url, config.histories)
    progress(
        "replay: "
        + ", ".join(
            f"{r['events']}: {r['with_snapshots_ms']} / {r['without_snapshots_ms']} ms"
            for r in out["replay"]
        )
    )
    phase("replay")
    progress(f"rebuild: topping the log up to {rebuild_events:,} events")
    out["rebuild"] = rebuild.measure(store.url, rebuild_events)
    progress(f"rebuild: {out['rebuild']['events_per_second']:,} events/s")
    phase("rebuild")
    return out


def main() -> int:
    config = Config.from_env()
    started = time.monotonic()
    results: dict[str, Any] = {
        "mode": "quick" if config.quick else "full",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "target_clients": config.target_clients,
        "config": {k: v for k, v in config.__dict__.items()},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": _loadavg(),
        },
        "revision": _revision(),
        "stores": {},
    }
    load = LoadProcess(client=config.client)
    try:
        for kind in config.stores:
            progress(f"--- {kind} ---")
            with fresh_store(kind, config.postgres_url) as store:
                result = run_store(config, store, load)
            # JSON keys: concurrency levels as strings, the same before and after a dump.
            result = _stringify(result)
            result["targets"] = report.targets(result, config.target_clients)
            results["stores"][kind] = result
    finally:
        load.close()
    results["machine"]["loadavg_end"] = _loadavg()
    results["duration_s"] = round(time.monotonic() - started, 1)
    report.write(results, config.output)
    sys.stdout.write(report.render(results))
    progress(f"wrote {config.output}")
    return 0


def _revision() -> dict[str, Any]:
    """The commit measured, and the product files that differed from it at the start (the
    server imports them when it starts, once per store)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "domain", "adapters", "service")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": [line[3:] for line in changed.splitlines()],
    }


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    return value


if __name__ == "__main__":
    raise SystemExit(main())

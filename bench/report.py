"""The readable table, the targets with PASS/MISS, and bench/results.json."""

from __future__ import annotations

import json
from typing import Any

from bench.machine import DISTURBED

NAMES = {"postgres": "PostgreSQL", "sqlite": "SQLite"}
READ_NAMES = {
    "healthz": "GET /healthz (trivial)",
    "get": "GET /v1/connections/{id}",
    "list": "GET /v1/connections?state&region",
}
Runs = dict[str, dict[str, Any]]  # concurrency level ("8") -> one run's figures


def targets(store: dict[str, Any], clients: int) -> list[dict[str, Any]]:
    """The issue's targets, each against a figure measured in the same run."""
    out: list[dict[str, Any]] = []
    key = str(clients)

    def add(name: str, measured: float, bound: float, ok: bool, text: str) -> None:
        out.append(
            {
                "target": name,
                "measured": measured,
                "bound": round(bound, 3),
                "pass": ok,
                "text": text,
            }
        )

    ceiling = store.get("ceiling", {}).get("commit", {}).get(key)
    for op, runs in store.get("commands", {}).items():
        run = runs.get(key)
        if not (run and ceiling):
            continue
        rate, bound = run["per_second"], 0.8 * ceiling["per_second"]
        add(
            f"{op}: commands/s",
            rate,
            bound,
            rate >= bound,
            f"{rate:.0f}/s ≥ 0.8 x {ceiling['per_second']:.0f}/s",
        )
        p99, bound = run["p99_ms"], 2 * ceiling["p99_ms"]
        add(
            f"{op}: p99", p99, bound, p99 <= bound, f"{p99:.1f} ms ≤ 2 x {ceiling['p99_ms']:.1f} ms"
        )
    reads = store.get("reads", {})
    if key in reads.get("get", {}) and key in reads.get("healthz", {}):
        get, trivial = reads["get"][key]["per_second"], reads["healthz"][key]["per_second"]
        add(
            "GET one connection: reads/s",
            get,
            0.5 * trivial,
            get >= 0.5 * trivial,
            f"{get:.0f}/s ≥ 0.5 x {trivial:.0f}/s (GET /healthz)",
        )
    by_length = {r["events"]: r for r in store.get("replay", [])}
    if 10 in by_length and 10_000 in by_length:
        # The worst case counts: 49 events past the last snapshot (10,049), when measured.
        worst = max(
            (r for n, r in by_length.items() if n >= 10_000), key=lambda r: r["with_snapshots_ms"]
        )
        long, short = worst["with_snapshots_ms"], by_length[10]["with_snapshots_ms"]
        exact = by_length[10_000]["with_snapshots_ms"]
        add(
            "load of 10,000 events, with snapshots",
            long,
            3 * short,
            long <= 3 * short,
            f"{long:.2f} ms ({worst['events']:,} events; {exact:.2f} ms at exactly 10,000) "
            f"≤ 3 x {short:.2f} ms (10 events)",
        )
    memory = store.get("memory")
    if memory:
        growth = memory["growth_pct"]
        add(
            "RSS growth",
            growth,
            10.0,
            growth <= 10.0,
            f"{growth:+.1f}% ≤ 10% over {memory['commands']:,} commands",
        )
    return out


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        (
            f"make bench ({results['mode']} mode): {results['duration_s']:.0f} s on "
            f"{machine['cpus']} CPUs (load average {machine['loadavg_start']} at start, "
            f"{machine['loadavg_end']} at end); load client: {results['config']['client']}"
        ),
        (
            f"revision {results['revision']['commit']}"
            + (
                f" with uncommitted changes to {len(results['revision']['uncommitted'])} "
                "product files"
                if results["revision"]["uncommitted"]
                else ""
            )
        ),
    ]
    for kind, store in results["stores"].items():
        durability = ", ".join(f"{k}={v}" for k, v in store.get("durability", {}).items())
        workers = store.get("server_workers", 1)
        lines += [
            "",
            f"=== {NAMES[kind]} ({durability}; `connections serve --workers {workers}`) ===",
        ]
        target = results["target_clients"]
        lines += _commands(store, target) + _reads(store, target) + _disturbed(store)
        lines += _replay(store) + _memory(store) + _rebuild(store) + _targets(kind, store, target)
    return "\n".join(lines) + "\n"


def _commands(store: dict[str, Any], target: int) -> list[str]:
    if not store.get("commands"):
        return []
    levels = _levels(store["commands"])
    lines = [
        "",
        (
            "Commands over HTTP: req/s (x raw commit ceiling at the same concurrency), "
            f"p50 / p99 ms; server CPU ms per request at {target} clients"
        ),
        _header(levels),
    ]
    ceiling = store.get("ceiling", {})
    base = ceiling.get("commit", {})
    if base:
        lines.append(_row("raw commit ceiling", base, levels, None, target))
    if "commit_locked" in ceiling:
        lines.append(
            _row("raw commit + LOCK TABLE", ceiling["commit_locked"], levels, base, target)
        )
    lines += [_row(op, runs, levels, base, target) for op, runs in store["commands"].items()]
    return lines


def _reads(store: dict[str, Any], target: int) -> list[str]:
    if not store.get("reads"):
        return []
    levels = _levels(store["reads"])
    trivial = store["reads"].get("healthz", {})
    lines = [
        "",
        "Reads over HTTP: req/s (x GET /healthz on the same server), p50 / p99 ms",
        _header(levels),
    ]
    lines += [
        _row(READ_NAMES[op], runs, levels, None if op == "healthz" else trivial, target)
        for op, runs in store["reads"].items()
    ]
    return lines


def _disturbed(store: dict[str, Any]) -> list[str]:
    lines = []
    runs = [
        (group, op, c, r)
        for group in ("ceiling", "commands", "reads")
        for op, levels in store.get(group, {}).items()
        for c, r in levels.items()
    ]
    background = [r.get("background_cores", 0.0) for *_, r in runs]
    if any(b > DISTURBED for b in background):
        lines.append(
            f"  * other processes on the machine kept more than {DISTURBED} cores busy "
            f"during that run (up to {max(background):.2f} cores)"
        )
    lagging = [
        (r.get("read_model_lag_after", 0), f"{op} at {c} clients")
        for group, op, c, r in runs
        if group == "commands"
    ]
    if lagging and max(lagging)[0] > 0:
        lag, where = max(lagging)
        lines.append(
            f"  the embedded worker trailed by up to {lag:,} events when a command run "
            f"ended ({where}); it catches up between runs"
        )
    errors = {f"{op} at {c} clients": r["errors"] for _, op, c, r in runs if r.get("errors")}
    if errors:
        lines.append(f"  errors, left out of the figures (HTTP status: count): {errors}")
    return lines


def _replay(store: dict[str, Any]) -> list[str]:
    if not store.get("replay"):
        return []
    lines = [
        "",
        (
            "Replay: load one connection from the store (median ms, cache off), and "
            "from the service's aggregate cache"
        ),
        f"{'events':>10} {'with snapshots':>15} {'without':>10} {'cached':>8}  note",
    ]
    lines += [
        f"{r['events']:>10,} {r['with_snapshots_ms']:>15.2f} "
        f"{r['without_snapshots_ms']:>10.2f} {r.get('cached_ms', float('nan')):>8.2f}  "
        f"{r['note']}"
        for r in store["replay"]
    ]
    return lines


def _memory(store: dict[str, Any]) -> list[str]:
    m = store.get("memory")
    if not m:
        return []
    return [
        "",
        (
            f"Memory: server RSS over {m['commands']:,} commands at {m['clients']} clients "
            f"({m['run']['per_second']:.0f}/s): {m['rss_before_mb']} MB warm, "
            f"{m['rss_after_mb']} MB after, {m['rss_after_projection_mb']} MB once "
            f"projected (peak {m['rss_peak_mb']} MB): {m['growth_pct']:+.1f}%"
        ),
        (
            f"  the embedded worker trailed by {m.get('read_model_lag_after', 0):,} events "
            "when the commands ended, and took "
            + (f"{m['catch_up_s']:.0f} s" if m.get("catch_up_s") is not None else "more than 5 min")
            + " to finish them"
        ),
    ]


def _rebuild(store: dict[str, Any]) -> list[str]:
    r = store.get("rebuild")
    if not r:
        return []
    topped = (
        f" (the log was topped up with {r['generated']:,} events at "
        f"{r['generated_per_second']:,.0f}/s first)"
        if r["generated"]
        else ""
    )
    return [
        "",
        (
            f"Read-model rebuild: {r['events']:,} events in {r['seconds']:.1f} s = "
            f"{r['events_per_second']:,.0f} events/s{topped}"
        ),
    ]


def _targets(kind: str, store: dict[str, Any], target: int) -> list[str]:
    if not store.get("targets"):
        return []
    note = "" if kind == "postgres" else " (for information: the targets are set on PostgreSQL)"
    lines = ["", f"Targets at {target} clients, this run{note}"]
    lines += [
        f"  {'PASS' if t['pass'] else 'MISS'}  {t['target']:<46} {t['text']}"
        for t in store["targets"]
    ]
    return lines


def _levels(groups: dict[str, Runs]) -> list[int]:
    return sorted({int(c) for runs in groups.values() for c in runs})


def _header(levels: list[int]) -> str:
    cells = "".join(f"{f'{c} client' + ('s' if c > 1 else ''):^30}  " for c in levels)
    return f"{'':34}{cells}CPU ms"


def _row(name: str, runs: Runs, levels: list[int], base: Runs | None, cpu_level: int) -> str:
    cells = []
    for c in levels:
        r = runs.get(str(c))
        if r is None:
            cells.append(f"{'-':^30}  ")
            continue
        ref = base.get(str(c)) if base else None
        ratio = f"{r['per_second'] / ref['per_second']:.2f}x" if ref and ref["per_second"] else ""
        mark = "*" if r.get("background_cores", 0.0) > DISTURBED else " "
        cells.append(
            f"{r['per_second']:>7.0f}{ratio:>7}{mark} {r['p50_ms']:>6.1f} /{r['p99_ms']:>6.1f}  "
        )
    cpu = (runs.get(str(cpu_level)) or {}).get("server_cpu_ms_per_op")
    return f"{name:<34}" + "".join(cells) + (f"{cpu:6.2f}" if cpu is not None else "")


def write(results: dict[str, Any], path: str) -> None:
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")

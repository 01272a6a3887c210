"""`python -m bench.http` (the first part of `make bench`): the request path against the
HTTP stack's own ceiling, with C load generators so the load costs little of the cores.

On a fresh PostgreSQL schema, one run, 8 connections (`BENCH_WRK_CONNECTIONS`):

1. pgbench: raw one-INSERT-per-transaction commits, and the same with the event store's
   exclusive table lock (the bound for commits that keep notification ids in order).
2. `connections serve --workers <cores>` with the embedded worker and JSON logs, and
   beside it the peer (bench/peer/: the same resource by hand, one INSERT or SELECT per
   request, as many workers), then wrk (bench/wrk.lua), the peer's run and the
   service's back to back, on: `/healthz`, create, GET one connection (cycling over
   1,000), a list of 20 newest first with and without a state filter, and `/healthz`
   again at the end; and an action on distinct connections (resend_invitation; the
   service only, against the peer's create).
3. During the create run, the followers' lag (read model, webhook and mail outboxes),
   sampled from their tracking positions; after it, how long they took to drain.
4. Integrity after everything: every event of the log is in the read model's event
   index exactly once and the mail outbox wrote one invitation per connection, so no
   follower passed over an event committed out of order (what the table lock is for).

Every figure is printed as a ratio to the peer's same operation in the same run (and,
for information, to the service's own `/healthz`). Figures to stdout and bench/http.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import httpx
import psycopg

from bench.server import Peer, Server, fresh_store

HERE = Path(__file__).parent
BODY = {"owner_email": "owner@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}
# Each service run against the peer's run of the same operation (an action, which the
# peer has not, against its create), and the (#25) target for that ratio.
PEER_OF = {
    "healthz": "healthz",
    "create": "create",
    "action": "create",
    "get": "get",
    "list": "list",
    "list_state": "list_state",
    "healthz_end": "healthz_end",
}
PEER_TARGETS = {
    "healthz": 0.8,
    "create": 0.5,
    "action": 0.5,
    "get": 0.8,
    "list": 0.8,
    "list_state": 0.8,
    "healthz_end": 0.8,
}
CREATE_P99_MS = 25.0
READ_IDS = 1_000


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise SystemExit(f"{tool} is missing: `make bench` installs it (apt-get install {tool})")
    return found


# ----------------------------------------------------------------------------- pgbench


def pgbench(dsn: str, schema: str, clients: int, seconds: float, locked: bool) -> dict[str, Any]:
    """tps and mean latency of one-row transactions, as pgbench reports them."""
    table = f'"{schema}".ceiling'
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)"
        )
    insert = f"INSERT INTO {table} (payload) VALUES ('{'x' * 64}');"
    script = (
        f"BEGIN;\nLOCK TABLE {table} IN EXCLUSIVE MODE;\n{insert}\nCOMMIT;\n"
        if locked
        else insert + "\n"
    )
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    try:
        done = subprocess.run(
            [
                require("pgbench"),
                "-n",  # no vacuum of pgbench's own tables
                "-h",
                str(info.get("host", "127.0.0.1")),
                "-p",
                str(info.get("port", 5432)),
                "-U",
                str(info.get("user", "postgres")),
                "-c",
                str(clients),
                "-j",
                str(min(clients, 2)),
                "-T",
                str(max(1, round(seconds))),
                "-f",
                f.name,
                str(info["dbname"]),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(f.name)
    tps = float(re.search(r"tps = ([\d.]+)", done.stdout).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", done.stdout).group(1))
    return {"per_second": round(tps), "mean_ms": latency}


# --------------------------------------------------------------------------------- wrk


def wrk(
    url: str,
    method: str,
    path: str,
    key: str | None,
    seconds: float,
    *,
    body: dict[str, Any] | None = None,
    ids: Path | None = None,
    connections: int = 8,
    threads: int = 2,
) -> dict[str, Any]:
    done = subprocess.run(
        [
            require("wrk"),
            "-c",
            str(connections),
            "-t",
            str(threads),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "wrk.lua"),
            url,
            "--",
            method,
            path,
            key or "-",
            json.dumps(body) if body is not None else "-",
            str(ids) if ids is not None else "-",
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    elapsed = summary["duration_us"] / 1e6
    failed = summary["non_2xx_3xx"] + sum(
        summary[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return {
        "per_second": round((summary["requests"] - failed) / elapsed),
        "requests": summary["requests"],
        "failed": failed,
        "p50_ms": round(summary["p50_us"] / 1000, 2),
        "p99_ms": round(summary["p99_us"] / 1000, 2),
        "max_ms": round(summary["max_us"] / 1000, 2),
    }


# --------------------------------------------------------------------- followers' lag


class Lag:
    """Samples how far each follower trails the log, every `every` seconds, in a thread."""

    FOLLOWERS: ClassVar[dict[str, tuple[str, str]]] = {
        "read_model": ("projection_positions", "connections_view"),
        "webhook_outbox": ("webhook_tracking", "webhook_outbox"),
        "mail_outbox": ("mail_tracking", "mail_outbox"),
    }

    def __init__(self, dsn: str, schema: str, every: float = 0.2) -> None:
        self.dsn, self.schema, self.every = dsn, schema, every
        self.samples: list[dict[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self, conn: psycopg.Connection) -> dict[str, int]:
        s = self.schema
        head = conn.execute(
            f'SELECT COALESCE(MAX(notification_id), 0) FROM "{s}".connections_events'
        ).fetchone()[0]
        lag = {}
        for name, (table, follower) in self.FOLLOWERS.items():
            row = conn.execute(
                f'SELECT position FROM "{s}".{table} WHERE name = %s', (follower,)
            ).fetchone()
            lag[name] = head - (row[0] if row else 0)
        return lag

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop.wait(self.every):
                self.samples.append(self.now(conn))

    def __enter__(self) -> Lag:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()

    def drained_after(self, timeout: float = 300) -> float | None:
        """Seconds until every follower has caught up (None: not within `timeout`)."""
        began = time.monotonic()
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while time.monotonic() - began < timeout:
                if not any(self.now(conn).values()):
                    return round(time.monotonic() - began, 2)
                time.sleep(0.05)
        return None

    def worst(self) -> dict[str, int]:
        return {name: max((s[name] for s in self.samples), default=0) for name in self.FOLLOWERS}


def commands_per_commit(url: str, scrapes: int = 6) -> list[float]:
    """Group commit's batches: commands per event-store transaction, from /metrics of
    whichever server process answers each scrape (so usually both)."""
    found = set()
    for _ in range(scrapes):
        text = httpx.get(f"{url}/metrics", timeout=10).text
        pairs = dict(re.findall(r"^event_store_commit_commands_(sum|count) (\S+)$", text, re.M))
        if pairs.get("count") and float(pairs["count"]):
            found.add(round(float(pairs["sum"]) / float(pairs["count"]), 2))
    return sorted(found)


# ------------------------------------------------------------------------- integrity


def integrity(dsn: str, schema: str) -> dict[str, Any]:
    """What the followers made of the log, once settled: every connection event in the
    read model's event index exactly once, one invitation mail per connection."""
    s = schema
    with psycopg.connect(dsn, autocommit=True) as conn:
        logged = conn.execute(
            f'SELECT COUNT(*), COUNT(DISTINCT originator_id) FROM "{s}".connections_events '
            "WHERE topic LIKE %s",
            ("%Connection.%",),
        ).fetchone()
        missing = conn.execute(
            f'SELECT COUNT(*) FROM "{s}".connections_events e WHERE e.topic LIKE %s '
            f'AND e.topic NOT LIKE %s AND NOT EXISTS (SELECT 1 FROM "{s}".events_index i '
            "WHERE i.position = e.notification_id)",
            ("%Connection.%", "%Snapshot%"),
        ).fetchone()[0]
        indexed = conn.execute(f'SELECT COUNT(*) FROM "{s}".events_index').fetchone()[0]
        invitations = conn.execute(
            f'SELECT COUNT(*), COUNT(DISTINCT event_id) FROM "{s}".mail_outbox '
            "WHERE kind = 'invitation'"
        ).fetchone()
        invited = conn.execute(
            f'SELECT COUNT(*) FROM "{s}".connections_events WHERE topic LIKE %s',
            ("%Connection.Invited",),
        ).fetchone()[0]
        resent = conn.execute(
            f'SELECT COUNT(*) FROM "{s}".connections_events WHERE topic LIKE %s',
            ("%Connection.InvitationResent",),
        ).fetchone()[0]
    return {
        "events": logged[0],
        "connections": logged[1],
        "events_missing_from_read_model": missing,
        "events_indexed": indexed,
        "invitation_mails": invitations[0],
        "invitation_mails_distinct": invitations[1],
        "invitations_expected": invited + resent,
        "ok": missing == 0 and invitations[0] == invitations[1] == invited + resent,
    }


# ------------------------------------------------------------------------------- run


def ids_of(dsn: str, query: str, path: Path) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(query).fetchall()
    path.write_text("".join(f"{r[0]}\n" for r in rows))
    return len(rows)


def main() -> int:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    seconds = float(os.environ.get("BENCH_WRK_SECONDS", "3" if quick else "10"))
    connections = int(os.environ.get("BENCH_WRK_CONNECTIONS", "8"))
    workers = int(os.environ.get("BENCH_SERVER_WORKERS", os.cpu_count() or 1))
    postgres = os.environ.get(
        "BENCH_DATABASE_URL",
        os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    output = os.environ.get("BENCH_HTTP_OUTPUT", "bench/http.json")
    out: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "connections": connections,
        "seconds": seconds,
        "server_workers": workers,
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg()[0],
    }
    with fresh_store("postgres", postgres) as store, tempfile.TemporaryDirectory() as tmp:
        dsn, schema = postgres, store.ceiling_target
        for locked in (False, True):
            name = "commit_locked" if locked else "commit"
            out[name] = pgbench(dsn, schema, connections, seconds, locked)
            progress(f"pgbench {name}: {out[name]['per_second']}/s")
        server = Server(store.url, f"{tmp}/serve.log", workers=workers)
        peer = None
        try:
            peer = Peer(dsn, schema, f"{tmp}/peer.log", workers=workers)
            key = server.api_key()
            runs: dict[str, Any] = {}
            peer_runs: dict[str, Any] = {}

            drained = Drained()

            def run(target: Server | Peer, name: str, method: str, path: str, **kw: Any) -> None:
                secret = kw.pop("key", peer.key if target is peer else key)
                result = settled_run(target, drained, method, path, secret, seconds, **kw)
                (peer_runs if target is peer else runs)[name] = result
                progress(
                    f"{'peer' if target is peer else 'service'} {name}: "
                    f"{result['per_second']}/s p50 {result['p50_ms']} ms "
                    f"p99 {result['p99_ms']} ms failed {result['failed']}"
                )

            def both(name: str, method: str, path: str, **kw: Any) -> None:
                """The peer's run, then the service's, back to back."""
                peer_ids = kw.pop("peer_ids", None)
                run(peer, name, method, path, **{**kw, "ids": peer_ids})
                run(server, name, method, path, **kw)

            both("healthz", "GET", "/healthz", key=None, connections=connections)
            run(peer, "create", "POST", "/v1/connections", body=BODY, connections=connections)
            lag = Lag(dsn, schema)
            with lag:
                run(server, "create", "POST", "/v1/connections", body=BODY, connections=connections)
            out["commands_per_commit"] = commands_per_commit(server.url)
            out["followers_worst_lag_during_create"] = lag.worst()
            out["followers_drained_after_create_s"] = lag.drained_after()
            ids, peer_ids = Path(tmp) / "ids", Path(tmp) / "peer_ids"
            out["connections_for_reads"] = ids_of(
                dsn, f'SELECT id FROM "{schema}".connections_view ORDER BY created_at DESC', ids
            )
            out["peer_connections_for_reads"] = ids_of(
                dsn,
                f'SELECT id FROM "{schema}".peer_connections ORDER BY created_at DESC',
                peer_ids,
            )
            run(
                server,
                "action",
                "POST",
                "/v1/connections/{id}/resend_invitation",
                ids=ids,
                connections=connections,
            )
            # GET cycles over 1,000 of them (each read about five times in a full run),
            # as the earlier bench's reads did; every connection just had a command, so
            # the first read of each also brings the process's copy up to date.
            hot, peer_hot = Path(tmp) / "hot", Path(tmp) / "peer_hot"
            hot.write_text("".join(ids.read_text().splitlines(keepends=True)[:READ_IDS]))
            peer_hot.write_text("".join(peer_ids.read_text().splitlines(keepends=True)[:READ_IDS]))
            both(
                "get",
                "GET",
                "/v1/connections/{id}",
                ids=hot,
                peer_ids=peer_hot,
                connections=connections,
            )
            both("list", "GET", "/v1/connections?limit=20", connections=connections)
            both(
                "list_state",
                "GET",
                "/v1/connections?limit=20&state=invited",
                connections=connections,
            )
            both("healthz_end", "GET", "/healthz", key=None, connections=connections)
            out["followers_drained_at_end_s"] = Lag(dsn, schema).drained_after()
        finally:
            server.stop()
            if peer is not None:
                peer.stop()
        out["integrity"] = integrity(dsn, schema)
    out["runs"] = runs
    out["peer_runs"] = peer_runs
    out["loadavg_end"] = os.getloadavg()[0]
    ceiling = (runs["healthz"]["per_second"] + runs["healthz_end"]["per_second"]) / 2
    out["healthz_ceiling"] = round(ceiling)
    out["ratios_to_healthz"] = {
        name: round(runs[name]["per_second"] / ceiling, 3) for name in PEER_OF if name in runs
    }
    out["ratios_to_peer"] = {
        name: round(runs[name]["per_second"] / peer_runs[PEER_OF[name]]["per_second"], 3)
        for name in PEER_OF
        if name in runs and PEER_OF[name] in peer_runs
    }
    Path(output).write_text(json.dumps(out, indent=2) + "\n")
    sys.stdout.write(render(out))
    return 0 if out["integrity"]["ok"] else 1


def render(out: dict[str, Any]) -> str:
    runs, peer_runs = out["runs"], out["peer_runs"]
    lines = [
        "",
        f"HTTP path on PostgreSQL, wrk, {out['connections']} connections, "
        f"{out['seconds']:.0f} s each, `serve --workers {out['server_workers']}` and the "
        f"peer (bench/peer/) with as many, on {out['cpus']} cores "
        f"(load {out['loadavg_start']:.2f} at start, {out['loadavg_end']:.2f} at end)",
        f"  pgbench one-INSERT commits: {out['commit']['per_second']:,}/s; "
        f"with the event store's table lock: {out['commit_locked']['per_second']:,}/s",
        "",
        f"  {'run':<11} {'service/s':>9} {'peer/s':>7} {'x peer':>7} {'target':>7} "
        f"{'p50 ms':>15} {'p99 ms':>15} {'cpu ms/req':>15} {'failed':>6}",
        f"  {'':<44} {'svc / peer':>15} {'svc / peer':>15} {'svc / peer':>15}",
    ]
    ratios = out["ratios_to_peer"]
    for name, result in runs.items():
        mine = PEER_OF.get(name, name)
        other = peer_runs.get(mine, {})
        ratio = ratios.get(name)
        if ratio is None and other:
            ratio = round(result["per_second"] / other["per_second"], 3)
        target = PEER_TARGETS.get(name)
        verdict = ""
        if target is not None and ratio is not None:
            verdict = "met" if ratio >= target else "MISSED"
        lines.append(
            f"  {name:<11} {result['per_second']:>9,} {other.get('per_second', 0):>7,} "
            f"{'' if ratio is None else f'{ratio:.2f}x':>7} "
            f"{'' if target is None else f'{target:.2f}x':>7} "
            f"{_pair(result, other, 'p50_ms')} {_pair(result, other, 'p99_ms')} "
            f"{_pair(result, other, 'server_cpu_ms_per_request')}"
            f"{result['failed'] + other.get('failed', 0):>7}  {verdict}"
        )
    p99 = runs["create"]["p99_ms"]
    lines += [
        "  (action: resend_invitation on distinct connections, against the peer's create)",
        f"  create p99 {p99} ms (target <= {CREATE_P99_MS:.0f} ms: "
        f"{'met' if p99 <= CREATE_P99_MS else 'MISSED'}); commands per commit (group "
        f"commit, per server process): {out['commands_per_commit']}",
        "  server CPU ms per request once the followers finished what the run left them: "
        + ", ".join(
            f"{name} {r['server_cpu_ms_per_request_drained']}"
            for name, r in runs.items()
            if name in ("create", "action", "get") and "server_cpu_ms_per_request_drained" in r
        ),
        f"  x the service's own /healthz: {out['ratios_to_healthz']}",
        f"  followers' worst lag during create (events): "
        f"{out['followers_worst_lag_during_create']}; drained "
        f"{out['followers_drained_after_create_s']} s after it",
        f"  integrity: {out['integrity']}",
        "",
    ]
    return "\n".join(lines)


def settled_run(
    target: Any,
    drained: Drained,
    method: str,
    path: str,
    secret: str | None,
    seconds: float,
    **kw: Any,
) -> dict[str, Any]:
    """One wrk run against `target` once it has settled, with what it cost the server's
    processes per request (`server_cpu_ms_per_request`; `drained` adds the figure with the
    followers' catch-up when the target settles before its next run)."""
    target.settle()
    drained.settled(target)
    cpu = target.cpu_seconds()
    result = wrk(target.url, method, path, secret, seconds, **kw)
    result["server_cpu_ms_per_request"] = _cpu_ms_per_request(target, cpu, result)
    drained.ran(target, cpu, result)
    return result


def _cpu_ms_per_request(target: Any, cpu_at_start: float, result: dict[str, Any]) -> float:
    return round((target.cpu_seconds() - cpu_at_start) / max(result["requests"], 1) * 1000, 3)


class Drained:
    """The CPU per request a run cost a server once its followers finished what the run
    left them (`server_cpu_ms_per_request_drained`): taken when the server has settled
    before its next run. During a 10 s run the followers may trail by thousands of
    events and catch up after it, so the run's own figure leaves out work that a
    follower keeping up does inside it; this one counts both alike."""

    def __init__(self) -> None:
        self._open: dict[int, tuple[Any, float, dict[str, Any]]] = {}

    def ran(self, target: Any, cpu_at_start: float, result: dict[str, Any]) -> None:
        self._open[id(target)] = (target, cpu_at_start, result)

    def settled(self, target: Any) -> None:
        opened = self._open.pop(id(target), None)
        if opened is not None:
            _, cpu, result = opened
            result["server_cpu_ms_per_request_drained"] = _cpu_ms_per_request(target, cpu, result)


def _pair(mine: dict[str, Any], peer: dict[str, Any], field: str) -> str:
    return f"{mine[field]:>7.2f} / {peer[field]:<5.2f}" if field in peer else f"{mine[field]:>15}"


if __name__ == "__main__":
    raise SystemExit(main())

"""The background pipelines: one deadlines pass, and webhook delivery from commit to receiver.

`python -m bench.pipelines` (run by `make bench` after the main suite) on PostgreSQL:
- a deadlines pass over BENCH_DEADLINE_CONNECTIONS connections (100,000; 5,000 with
  BENCH_QUICK=1) of which 1% are due: seconds for the pass, and commands fired;
- webhook delivery: `connections serve` and one `connections worker` process (woken by
  NOTIFY), a local receiver, and BENCH_WEBHOOK_EVENTS connections created over HTTP three
  times: at a steady 50/s, then by 4 clients at full speed (the time from each event's
  commit to its arrival, median and p99, for both), then while the worker is stopped
  (the rate at which it drains that backlog).
Writes bench/pipelines.json and prints a table.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx

from adapters.clock import SettableClock
from bench.config import _int
from bench.server import SECRET_KEY, Server, WorkerProcess, fresh_store
from domain.connection import Connection, Context
from service.container import build
from service.settings import Settings
from service.workers.deadlines import Deadlines

QUICK = os.environ.get("BENCH_QUICK") == "1"
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 1, 5, tzinfo=UTC)


def deadlines_pass(database_url: str, connections: int) -> dict:
    settings = Settings.from_env(
        {"DATABASE_URL": database_url, "SANDBOX": "1", "SECRET_KEY": SECRET_KEY, "RUN_WORKER": "0"}
    )
    clock = SettableClock(T0 + timedelta(days=14, hours=1))
    services = build(settings, clock=clock)
    try:
        due = connections // 100
        started = time.perf_counter()
        batch = []
        for i in range(connections):
            # The due 1% were invited 14 days before "now"; the rest an hour ago.
            at = T0 if i < due else clock.now() - timedelta(hours=1)
            batch.append(
                Connection.invite(
                    Context(actor="bench", at=at),
                    tenant_id="bench",
                    region="na",
                    owner_email=f"owner{i}@example.com",
                    marketplace_ids=["ATVPDKIKX0DER"],
                )
            )
            if len(batch) == 1000:
                services.app.save(*batch)
                batch = []
        if batch:
            services.app.save(*batch)
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        services.projection.catch_up()
        projected = time.perf_counter() - started
        started = time.perf_counter()
        fired = Deadlines(services).run_once(clock.now())
        seconds = time.perf_counter() - started
        return {
            "connections": connections,
            "due": due,
            "fired": fired,
            "pass_seconds": round(seconds, 3),
            "seed_seconds": round(seeded, 1),
            "read_model_seconds": round(projected, 1),
        }
    finally:
        services.close()


class _Receiver(BaseHTTPRequestHandler):
    arrivals: ClassVar[list[tuple[float, dict]]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # http.server's name for the POST handler
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with self.lock:
            self.arrivals.append((time.time(), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the dispatcher opens several connections at once


def _lags(arrivals: list[tuple[float, dict]]) -> list[float]:
    """Seconds from each event's commit (its recorded time) to its arrival, sorted."""
    return sorted(
        arrived - datetime.fromisoformat(body["data"]["event"]["occurred_at"]).timestamp()
        for arrived, body in arrivals
    )


def _create(api: httpx.Client, i: int) -> None:
    api.post(
        "/v1/connections",
        json={
            "owner_email": f"o{i}@example.com",
            "region": "na",
            "marketplace_ids": ["ATVPDKIKX0DER"],
        },
    ).raise_for_status()


def _wait_for(count: int, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while len(_Receiver.arrivals) < count and time.time() < deadline:
        time.sleep(0.01)


def _lag_figures(lags: list[float]) -> dict:
    return {
        "delivered": len(lags),
        "lag_median_ms": round(statistics.median(lags) * 1000, 1) if lags else None,
        "lag_p99_ms": round(lags[max(0, int(len(lags) * 0.99) - 1)] * 1000, 1) if lags else None,
    }


def webhook_delivery(
    database_url: str, events: int, clients: int = 4, paced_rate: float = 50.0
) -> dict:
    """The scale-out topology: `connections serve` without its embedded worker, and one
    `connections worker` process woken by PostgreSQL NOTIFY. Three runs of `events`:
    - paced: one client creating `paced_rate` connections a second, a steady stream well
      inside capacity; commit->arrival per event;
    - burst: `clients` clients creating as fast as the server answers, while the worker
      shares the two cores with it; commit->arrival per event;
    - backlog: created while the worker is stopped; then it starts and drains them
      (fan-out and sends): deliveries/s from its first arrival to its last."""
    receiver = _ReceiverServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    os.environ["WEBHOOK_ALLOW_PRIVATE"] = "1"  # the receiver is on loopback
    server = Server(database_url, "/tmp/bench-webhooks.log", run_worker=False)
    worker = None
    results: dict = {"events": events, "clients": clients, "paced_rate": paced_rate}
    try:
        key = server.api_key(("connections:read", "connections:write", "webhooks:manage"))
        worker = WorkerProcess(server, "/tmp/bench-webhooks-worker.log")
        with httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
            limits=httpx.Limits(max_connections=clients),
        ) as api:
            api.post(
                "/v1/webhook_endpoints",
                json={
                    "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                    "event_types": ["connection.invited"],
                },
            ).raise_for_status()
            started = time.monotonic()
            for i in range(events):
                time.sleep(max(0.0, started + i / paced_rate - time.monotonic()))
                _create(api, i)
            _wait_for(events)
            results["paced"] = _lag_figures(_lags(_Receiver.arrivals))
            del _Receiver.arrivals[:]

            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(lambda i: _create(api, i), range(events, 2 * events)))
            _wait_for(events)
            results["burst"] = _lag_figures(_lags(_Receiver.arrivals))
            del _Receiver.arrivals[:]

            worker.stop()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(lambda i: _create(api, i), range(2 * events, 3 * events)))
            worker = WorkerProcess(server, "/tmp/bench-webhooks-worker.log")
            _wait_for(events)
        times = [a for a, _ in _Receiver.arrivals]
        span = max(times) - min(times) if len(times) > 1 else 0.0
        results["backlog"] = {
            "delivered": len(times),
            "deliveries_per_second": round(len(times) / span, 1) if span else None,
        }
        return results
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
        receiver.shutdown()


def main() -> int:
    results = {}
    with fresh_store("postgres", POSTGRES) as store:
        results["deadlines"] = deadlines_pass(
            store.url, _int("BENCH_DEADLINE_CONNECTIONS", 5_000 if QUICK else 100_000)
        )
    with fresh_store("postgres", POSTGRES) as store:
        results["webhooks"] = webhook_delivery(
            store.url, _int("BENCH_WEBHOOK_EVENTS", 200 if QUICK else 1_000)
        )
    with open("bench/pipelines.json", "w") as f:
        json.dump(results, f, indent=1)
    d, w = results["deadlines"], results["webhooks"]
    print(
        f"deadlines pass over {d['connections']:,} connections, {d['due']:,} due: "
        f"{d['pass_seconds']} s, {d['fired']:,} fired"
    )
    for run, how in (
        ("paced", f"{w['paced_rate']:g}/s from 1 client"),
        ("burst", f"{w['clients']} clients at full speed"),
    ):
        r = w[run]
        print(
            f"webhooks {run} ({how}): {r['delivered']}/{w['events']} delivered, "
            f"commit->delivery median {r['lag_median_ms']} ms, p99 {r['lag_p99_ms']} ms"
        )
    b = w["backlog"]
    print(
        f"webhooks backlog: {b['delivered']}/{w['events']} drained at "
        f"{b['deliveries_per_second']} deliveries/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The background pipelines: one deadlines pass, and webhook delivery from commit to receiver.

`python -m bench.pipelines` (run by `make bench` after the main suite) on PostgreSQL:
- a deadlines pass over BENCH_DEADLINE_CONNECTIONS connections (100,000; 5,000 with
  BENCH_QUICK=1) of which 1% are due: seconds for the pass, and commands fired;
- webhook delivery: `connections serve` with its embedded worker, a local receiver, and
  BENCH_WEBHOOK_EVENTS connections created over HTTP; the time from each event's commit
  to its arrival (median, p99) and deliveries per second.
Writes bench/pipelines.json and prints a table.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx

from adapters.clock import SettableClock
from bench.config import _int
from bench.server import SECRET_KEY, Server, fresh_store
from domain.connection import Connection, Context
from service.container import build
from service.deadlines import Deadlines
from service.settings import Settings

QUICK = os.environ.get("BENCH_QUICK") == "1"
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 1, 5, tzinfo=UTC)


def deadlines_pass(database_url: str, connections: int) -> dict:
    settings = Settings.from_env({"DATABASE_URL": database_url, "SANDBOX": "1",
                                  "SECRET_KEY": SECRET_KEY, "RUN_WORKER": "0"})
    clock = SettableClock(T0 + timedelta(days=14, hours=1))
    services = build(settings, clock=clock)
    try:
        due = connections // 100
        started = time.perf_counter()
        batch = []
        for i in range(connections):
            # The due 1% were invited 14 days before "now"; the rest an hour ago.
            at = T0 if i < due else clock.now() - timedelta(hours=1)
            batch.append(Connection.invite(
                Context(actor="bench", at=at), tenant_id="bench", region="na",
                owner_email=f"owner{i}@example.com", marketplace_ids=["ATVPDKIKX0DER"]))
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
        return {"connections": connections, "due": due, "fired": fired,
                "pass_seconds": round(seconds, 3), "seed_seconds": round(seeded, 1),
                "read_model_seconds": round(projected, 1)}
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


def webhook_delivery(database_url: str, events: int) -> dict:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    os.environ["WEBHOOK_ALLOW_PRIVATE"] = "1"  # the receiver is on loopback
    server = Server(database_url, "/tmp/bench-webhooks.log")
    try:
        key = server.api_key(("connections:read", "connections:write", "webhooks:manage"))
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"},
                          timeout=30) as api:
            api.post("/v1/webhook_endpoints", json={
                "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                "event_types": ["connection.invited"]}).raise_for_status()
            started = time.time()
            for i in range(events):
                api.post("/v1/connections", json={
                    "owner_email": f"o{i}@example.com", "region": "na",
                    "marketplace_ids": ["ATVPDKIKX0DER"]}).raise_for_status()
            deadline = time.time() + 120
            while len(_Receiver.arrivals) < events and time.time() < deadline:
                time.sleep(0.05)
        lags = sorted(arrived - datetime.fromisoformat(
            body["data"]["event"]["occurred_at"]).timestamp() for arrived, body in
            _Receiver.arrivals)
        span = max(a for a, _ in _Receiver.arrivals) - started if lags else 0.0
        return {"events": events, "delivered": len(lags),
                "lag_median_ms": round(statistics.median(lags) * 1000, 1) if lags else None,
                "lag_p99_ms": round(lags[int(len(lags) * 0.99) - 1] * 1000, 1) if lags else None,
                "deliveries_per_second": round(len(lags) / span, 1) if span else None}
    finally:
        server.stop()
        receiver.shutdown()


def main() -> int:
    results = {}
    with fresh_store("postgres", POSTGRES) as store:
        results["deadlines"] = deadlines_pass(
            store.url, _int("BENCH_DEADLINE_CONNECTIONS", 5_000 if QUICK else 100_000))
    with fresh_store("postgres", POSTGRES) as store:
        results["webhooks"] = webhook_delivery(
            store.url, _int("BENCH_WEBHOOK_EVENTS", 200 if QUICK else 1_000))
    with open("bench/pipelines.json", "w") as f:
        json.dump(results, f, indent=1)
    d, w = results["deadlines"], results["webhooks"]
    print(f"deadlines pass over {d['connections']:,} connections, {d['due']:,} due: "
          f"{d['pass_seconds']} s, {d['fired']:,} fired")
    print(f"webhooks: {w['delivered']}/{w['events']} delivered, commit->delivery median "
          f"{w['lag_median_ms']} ms, p99 {w['lag_p99_ms']} ms, "
          f"{w['deliveries_per_second']} deliveries/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

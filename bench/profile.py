"""Where a running server spends its time: `make profile` (py-spy, not part of `make test`).

Starts `connections serve` on a fresh PostgreSQL schema (or SQLite with
BENCH_STORES=sqlite), drives one request kind at 8 clients for a few seconds, and samples
the server with py-spy while only the threads holding the GIL count (its Python CPU).
Writes a flame graph per kind to bench/profile-<kind>.svg and prints the functions that
took the most samples, inclusive of what they called.

    make profile                      # get and create
    BENCH_PROFILE=list make profile   # one kind: get, list, create, action
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import httpx

from bench.server import Server, fresh_store

CLIENTS = 8
ACTED_ON = 100  # connections per client for the action kind
SECONDS = 8
BODY = {"owner_email": "owner@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}
_FRAME = re.compile(r" \((?:/.*?site-packages/|/work/[^/]+/)?(.*?)(?::\d+)?\)$")


def _drive(url: str, key: str, kind: str, ready: threading.Barrier) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        connection = client.post("/v1/connections", json=BODY).json()["id"]
        # An action (resend_invitation, as bench.http's) cycles over connections of its own.
        acted_on = ACTED_ON if kind == "action" else 0
        mine = [client.post("/v1/connections", json=BODY).json()["id"] for _ in range(acted_on)]
        ready.wait()
        stop = time.monotonic() + SECONDS + 2
        turn = 0
        while time.monotonic() < stop:
            if kind == "action":
                turn += 1
                client.post(f"/v1/connections/{mine[turn % ACTED_ON]}/resend_invitation")
            elif kind == "get":
                client.get(f"/v1/connections/{connection}")
            elif kind == "list":
                client.get("/v1/connections", params={"state": "invited", "region": "na"})
            else:
                client.post("/v1/connections", json=BODY)


def top(raw: str, count: int = 40) -> list[tuple[float, str]]:
    """(share of samples, function) for the functions in most samples, callees included."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        frames = {_FRAME.sub(r" (\1)", f) for f in stack.split(";")[1:]}
        total += int(n)
        for frame in frames:
            inclusive[frame] += int(n)
    return [(n / total, f) for f, n in inclusive.most_common(count)] if total else []


def profile(kind: str, database_url: str) -> str:
    server = Server(database_url, f"/tmp/profile-{kind}.log")
    try:
        key = server.api_key()
        ready = threading.Barrier(CLIENTS + 1)
        clients = [
            threading.Thread(target=_drive, args=(server.url, key, kind, ready))
            for _ in range(CLIENTS)
        ]
        for c in clients:
            c.start()
        ready.wait()  # every client has what it needs
        time.sleep(1)  # warm
        spy = [shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")]
        raw_path, svg_path = f"/tmp/profile-{kind}.txt", f"bench/profile-{kind}.svg"
        for fmt, path in (("raw", raw_path), ("flamegraph", svg_path)):
            subprocess.run(
                [
                    *spy,
                    "record",
                    "-p",
                    str(server.pid),
                    "-d",
                    str(SECONDS // 2),
                    "-r",
                    "250",
                    "--gil",
                    "--nonblocking",
                    "-f",
                    fmt,
                    "-o",
                    path,
                ],
                check=True,
                capture_output=True,
            )
        for c in clients:
            c.join()
        with open(raw_path) as f:
            return f.read()
    finally:
        server.stop()


def main() -> int:
    kinds = os.environ.get("BENCH_PROFILE", "get,create").split(",")
    store_kind = os.environ.get("BENCH_STORES", "postgres").split(",")[0]
    postgres = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    for kind in kinds:
        with fresh_store(store_kind, postgres) as store:
            raw = profile(kind, store.url)
        print(
            f"\n{kind} on {store_kind}: share of the server's GIL samples "
            f"(bench/profile-{kind}.svg)"
        )
        for share, frame in top(raw):
            print(f"  {share:6.1%}  {frame}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

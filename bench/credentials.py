"""`python -m bench.credentials` (part of `make bench`): what using a connection costs.

- Cached access tokens (`POST /v1/connections/{id}/access_tokens`, every token already
  fresh in the cache) against `/healthz` of the same server, both with wrk at 8
  connections, twice each taking turns: target at least 0.8x (PostgreSQL, where the
  token memory is trusted between announced changes and most requests are answered
  before routing, service.credentials.hot_path; `cache.hot_path` counts them).
- The proxy's added latency: the same SP-API call (the sandbox's getMarketplaceParticipations)
  through `/v1/connections/{id}/proxy/sp-api/…` and sent to the sandbox directly with the
  token, at 8 clients: target p50 at most 2 ms and p99 at most 10 ms added.

One `connections serve` process (no worker), per store; figures to stdout and to
bench/credentials.json, misses (non-2xx answers, cache misses) included.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.config import Config
from bench.http import wrk
from bench.load import LoadProcess
from bench.server import Server, fresh_store

SCOPES = ("connections:read", "connections:write", "credentials:read", "proxy:use")
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
TOKEN_PATH = "/v1/connections/{id}/access_tokens"


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def imported_connection(server: Server, key: str, n: int) -> str:
    """A connection of its own seller, imported with an importable sandbox refresh token."""
    partner = f"A{n:05d}BENCHSELLER"
    body = {
        "owner_email": "owner@example.com",
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        "requires_seller_central_user": False,
        "selling_partner_id": partner,
        "refresh_token": f"Atzr|sandbox-{partner}-bench",
    }
    headers = {"Authorization": f"Bearer {key}"}
    answer = httpx.post(f"{server.url}/v1/connections/import", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def cache_counts(server: Server) -> dict[str, float]:
    text = httpx.get(f"{server.url}/metrics").text
    found = re.findall(r'access_token_requests_total\{api="sp-api",outcome="(\w+)"\} (\S+)', text)
    hot = re.search(r"^access_token_hot_path_answers_total (\S+)$", text, re.M)
    # (absent from a build before service.credentials.hot_path: bench/README.md's A/B)
    hot_path = float(hot.group(1)) if hot else 0.0
    return {**{outcome: float(n) for outcome, n in found}, "hot_path": hot_path}


def measured(load: LoadProcess, job: dict[str, Any], servers: dict[str, Server]) -> dict[str, Any]:
    """The load job's figures, with each server's CPU per answered call (microseconds):
    steadier than throughput on a shared machine."""
    before = {name: s.cpu_seconds() for name, s in servers.items()}
    result = load.run(job)
    calls = max(int(result.get("ok", 0)), 1)
    for name, s in servers.items():
        result[f"{name}_cpu_us_per_call"] = round((s.cpu_seconds() - before[name]) / calls * 1e6)
    return result


def wrk_measured(
    server: Server, method: str, path: str, key: str, seconds: float, **kw: Any
) -> dict[str, Any]:
    """One wrk run at 8 connections, with the server's CPU per answered call (us)."""
    before = server.cpu_seconds()
    body = {"api": "sp-api"} if method == "POST" else None
    result = wrk(server.url, method, path, key, seconds, body=body, **kw)
    calls = max(result["requests"] - result["failed"], 1)
    result["service_cpu_us_per_call"] = round((server.cpu_seconds() - before) / calls * 1e6)
    result["errors"] = {"non_2xx_or_socket": result["failed"]} if result["failed"] else {}
    return result


def spied(pid: int, seconds: float, kind: str) -> subprocess.Popen | None:
    """With BENCH_PROFILE_PROXY=1: py-spy samples the service (GIL holders only) while the
    next run goes on; its raw stacks go to /tmp/profile-<kind>.txt (`bench.profile.top`
    prints the functions in most samples)."""
    if os.environ.get("BENCH_PROFILE_PROXY", "") in ("", "0"):
        return None
    spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    args = ["record", "-p", str(pid), "-d", str(max(int(seconds) - 1, 1)), "-r", "250"]
    args += ["--gil", "--nonblocking", "-f", "raw", "-o", f"/tmp/profile-{kind}.txt"]
    return subprocess.Popen([spy, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_store(config: Config, kind: str, load: LoadProcess) -> dict[str, Any]:
    clients = config.target_clients
    seconds = config.seconds
    with fresh_store(kind, config.postgres_url) as store, tempfile.TemporaryDirectory() as tmp:
        # Amazon is a process of its own (the sandbox of a second server), so the
        # proxy's figures are not the service answering its own calls.
        amazon = Server(f"sqlite:///{tmp}/amazon.db", f"{tmp}/amazon.log", run_worker=False)
        server = Server(
            store.url, f"{tmp}/serve.log", run_worker=False, env={"PUBLIC_BASE_URL": amazon.url}
        )
        try:
            key = server.api_key(SCOPES)
            ids = [imported_connection(server, key, n) for n in range(clients)]
            tokens = {}
            with httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {key}"}
            ) as api:
                for i, cid in enumerate(ids):
                    answer = api.post(
                        f"/v1/connections/{cid}/access_tokens", json={"api": "sp-api"}
                    )
                    tokens[str(i)] = {"x-amz-access-token": answer.json()["access_token"]}
                    endpoint = answer.json()["endpoint"]
            before = cache_counts(server)
            job = {
                "kind": "http",
                "url": server.url,
                "api_key": key,
                "clients": clients,
                "seconds": seconds,
            }
            out: dict[str, Any] = {}
            both = {"service": server, "sandbox": amazon}
            # /healthz and cached tokens with wrk (C, so the load takes little of the
            # cores the server needs), twice each, taking turns; the better run of each
            # is kept, as for the proxy below.
            id_file = Path(tmp) / "ids"
            id_file.write_text("\n".join(ids))
            turns: dict[str, list[dict[str, Any]]] = {"healthz": [], "access_token_cached": []}
            for turn in range(2):
                turns["healthz"].append(wrk_measured(server, "GET", "/healthz", key, seconds))
                spy = spied(server.pid, seconds, "access_token") if turn == 0 else None
                turns["access_token_cached"].append(
                    wrk_measured(server, "POST", TOKEN_PATH, key, seconds, ids=id_file)
                )
                if spy is not None:
                    spy.wait()
            for name, runs_of in turns.items():
                out[name] = max(runs_of, key=lambda r: r["per_second"])
            after = cache_counts(server)
            out["cache"] = {k: after.get(k, 0) - before.get(k, 0) for k in after}
            direct_path = endpoint.removeprefix(amazon.url) + PARTICIPATIONS
            direct = {**job, "url": amazon.url, "op": "fixed", "path": direct_path}
            proxied = {
                **job,
                "op": "fixed",
                "ids": ids,
                "path": "/v1/connections/{id}/proxy/sp-api" + PARTICIPATIONS,
            }
            # Direct and proxied twice, taking turns, so drift on the shared machine
            # touches both alike; the better run of each is kept.
            runs: dict[str, list[dict[str, Any]]] = {"direct": [], "proxied": []}
            for _ in range(2):
                runs["direct"].append(measured(load, {**direct, "headers": tokens}, both))
                spy = spied(server.pid, seconds, "proxy") if not runs["proxied"] else None
                runs["proxied"].append(measured(load, proxied, both))
                if spy is not None:
                    spy.wait()
            out["amazon_direct"] = max(runs["direct"], key=lambda r: r["per_second"])
            out["amazon_proxied"] = max(runs["proxied"], key=lambda r: r["per_second"])
        finally:
            server.stop()
            amazon.stop()
    h, t = out["healthz"], out["access_token_cached"]
    d, p = out["amazon_direct"], out["amazon_proxied"]
    out["summary"] = {
        "access_token_per_second": t["per_second"],
        "healthz_per_second": h["per_second"],
        "ratio_to_healthz": round(t["per_second"] / h["per_second"], 2) if h["per_second"] else 0,
        "proxy_added_p50_ms": round(p["p50_ms"] - d["p50_ms"], 2),
        "proxy_added_p99_ms": round(p["p99_ms"] - d["p99_ms"], 2),
        "direct_per_second": d["per_second"],
        "proxied_per_second": p["per_second"],
        "proxied_to_direct": round(p["per_second"] / d["per_second"], 2) if d["per_second"] else 0,
        "cpu_us_per_call": {
            "healthz_service": h["service_cpu_us_per_call"],
            "access_token_service": t["service_cpu_us_per_call"],
            "direct_sandbox": d["sandbox_cpu_us_per_call"],
            "proxied_service": p["service_cpu_us_per_call"],
            "proxied_sandbox": p["sandbox_cpu_us_per_call"],
        },
        "errors": {
            name: out[name]["errors"]
            for name in ("healthz", "access_token_cached", "amazon_direct", "amazon_proxied")
        },
        "cache_outcomes": out["cache"],
    }
    return out


def main() -> None:
    config = Config.from_env()
    load = LoadProcess(client=config.client)
    results: dict[str, Any] = {
        "quick": config.quick,
        "clients": config.target_clients,
        "seconds": config.seconds,
    }
    try:
        for kind in config.stores:
            progress(f"credentials on {kind}")
            results[kind] = run_store(config, kind, load)
            progress(f"{kind}: {json.dumps(results[kind]['summary'])}")
    finally:
        load.close()
    with open("bench/credentials.json", "w") as f:
        json.dump(results, f, indent=2)
    for kind in config.stores:
        s = results[kind]["summary"]
        print(
            f"{kind}: access tokens (cached) {s['access_token_per_second']}/s = "
            f"{s['ratio_to_healthz']}x /healthz {s['healthz_per_second']}/s (target >= 0.8x); "
            f"proxy adds p50 {s['proxy_added_p50_ms']} ms, p99 {s['proxy_added_p99_ms']} ms "
            f"(targets <= 2, <= 10); proxied {s['proxied_per_second']}/s = "
            f"{s['proxied_to_direct']}x direct {s['direct_per_second']}/s (target >= 0.5x); "
            f"CPU us/call {s['cpu_us_per_call']}; errors {s['errors']}; cache {s['cache_outcomes']}"
        )


if __name__ == "__main__":
    main()

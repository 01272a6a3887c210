"""`python -m bench.relay_clients`: the proxy's relay client candidates, CPU per call.

A loopback HTTP/1.1 server in another process (uvicorn, a raw ASGI app answering 200 with a
small JSON body, like an SP-API answer) and, in this process, each client sending GET after
GET over one pooled keep-alive connection, reading the answer as the relay does (streamed,
then closed). The figure is this process's CPU per call (best of several rounds, the
clients taking turns), which is what the proxy pays on the server's cores for every call
it relays: httpx.AsyncClient as the relay uses it (`adapters.http_clients.async_client`),
httpcore's AsyncConnectionPool directly (what httpx drives underneath), aiohttp's bare
ClientSession (with a DummyCookieJar: no cookies kept), and the relay itself
(`adapters.amazon.relay.Relay`, aiohttp since issue #25: the chosen client with the
relay's own layer on top).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from bench.server import free_port

CALLS = int(os.environ.get("BENCH_RELAY_CALLS", "1500"))
ROUNDS = int(os.environ.get("BENCH_RELAY_ROUNDS", "5"))
BODY = b'{"payload":{"orders":[]},"pagination":{}}' * 20

SERVER = f"""
import uvicorn
BODY = {BODY!r}
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({{"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode()),
        (b"x-amzn-requestid", b"abc")]}})
    await send({{"type": "http.response.body", "body": BODY}})
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning",
            access_log=False)
"""


async def with_httpx(url: str, calls: int) -> float:
    from adapters.http_clients import async_client

    client = async_client(timeout=10, follow_redirects=False)
    began = time.process_time()
    for _ in range(calls):
        answer = await client.send(client.build_request("GET", url), stream=True)
        async for _chunk in answer.aiter_raw():
            pass
        await answer.aclose()
    spent = time.process_time() - began
    await client.aclose()
    return spent / calls


async def with_httpcore(url: str, calls: int) -> float:
    import httpcore

    pool = httpcore.AsyncConnectionPool(max_connections=16, keepalive_expiry=5)
    began = time.process_time()
    for _ in range(calls):
        async with pool.stream("GET", url, headers=[(b"host", b"127.0.0.1")]) as answer:
            async for _chunk in answer.aiter_stream():
                pass
    spent = time.process_time() - began
    await pool.aclose()
    return spent / calls


async def with_aiohttp(url: str, calls: int) -> float:
    import aiohttp

    session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False)
    began = time.process_time()
    for _ in range(calls):
        async with session.get(url, allow_redirects=False) as answer:
            async for _chunk in answer.content.iter_any():
                pass
    spent = time.process_time() - began
    await session.close()
    return spent / calls


async def with_relay(url: str, calls: int) -> float:
    from adapters.amazon.relay import Relay

    relay = Relay(10)
    headers = {"user-agent": "bench"}
    began = time.process_time()
    for _ in range(calls):
        answer = await relay.send("GET", url, headers)
        async for _chunk in answer.aiter_raw():
            pass
        await answer.aclose()
    spent = time.process_time() - began
    await relay.aclose()
    return spent / calls


def main() -> int:
    import uvloop

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    url = f"http://127.0.0.1:{port}/orders/v0/orders"
    try:
        time.sleep(1.5)
        candidates: dict[str, Any] = {
            "httpx": with_httpx,
            "httpcore": with_httpcore,
            "aiohttp": with_aiohttp,
            "relay": with_relay,
        }
        best = {name: float("inf") for name in candidates}
        for _ in range(ROUNDS):
            for name, run in candidates.items():
                best[name] = min(best[name], uvloop.run(run(url, CALLS)))
    finally:
        server.terminate()
        server.wait()
    print(
        f"\nRelay clients, client CPU µs per call (best of {ROUNDS} x {CALLS}, keep-alive, "
        f"load {os.getloadavg()[0]:.2f})"
    )
    for name, seconds in best.items():
        print(f"  {name:<9} {seconds * 1e6:7.1f} µs  {seconds / best['httpx']:5.2f}x httpx")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m bench.edge`: what each layer of the HTTP edge costs per request, in CPU.

In one process, without sockets or a load generator (so the figures hold on a busy
machine): uvicorn's httptools protocol is fed `GET /healthz` on a stand-in transport, one
keep-alive request after another, and the process's CPU time per request is taken (the
best of several rounds). The stacks, each adding one layer to a bare litestar app that
has only `/healthz`:

- `bare`: litestar with `/healthz`, uvicorn's `HttpToolsProtocol`;
- `+ limits`: the service's `LimitedHttpToolsProtocol` (header caps, head/body timers);
- `+ edge`: the service's request middleware (request id, access line, metrics);
- `+ guard`: the edge guard (every string from outside checked);
- `service`: the service's whole app (`create_app`, SQLite) with the limits protocol.

Each is printed in µs per request and as a share of `bare`'s; the issue's (#25) bound is
that request id, access line, metrics and limits together cost at most a fifth of it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
import tempfile
import time
from typing import Any

from litestar import Litestar, get
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: wrk\r\n\r\n"
ROUNDS = int(os.environ.get("BENCH_EDGE_ROUNDS", "9"))
PER_ROUND = int(os.environ.get("BENCH_EDGE_REQUESTS", "2000"))


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def bare_app(**kwargs: Any) -> Litestar:
    return Litestar(route_handlers=[healthz], openapi_config=None, logging_config=None, **kwargs)


class Transport:
    """Collects what the protocol writes; says when a whole response went out."""

    def __init__(self) -> None:
        self.done: asyncio.Event | None = None
        self.closing = False
        self.written = 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def write(self, data: bytes) -> None:
        self.written += len(data)
        if self.done is not None and data.endswith(b"}"):  # the JSON body ends the response
            self.done.set()

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def set_protocol(self, protocol: Any) -> None: ...


async def _drive(app: Any, protocol_class: type, requests: int) -> float:
    config = Config(app, http=protocol_class, lifespan="off", access_log=False, log_config=None)
    config.load()
    protocol = protocol_class(config, ServerState(), {}, asyncio.get_running_loop())
    transport = Transport()
    protocol.connection_made(transport)
    began = time.process_time()
    for _ in range(requests):
        transport.done = asyncio.Event()
        protocol.data_received(REQUEST)
        await transport.done.wait()
    spent = time.process_time() - began
    protocol.connection_lost(None)
    return spent / requests


def measure(stacks: list[tuple[str, Any, type]]) -> dict[str, float]:
    """Best µs per request of each stack over ROUNDS rounds, the stacks taking turns in
    each round, so drift on a shared machine touches them alike."""
    import uvloop

    best = {name: float("inf") for name, *_ in stacks}
    for _ in range(ROUNDS):
        for name, app, protocol_class in stacks:
            spent = uvloop.run(_drive(app, protocol_class, PER_ROUND))
            best[name] = min(best[name], spent * 1e6)
    return best


def service_app(folder: str) -> Any:
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{folder}/connections.db",
            "SANDBOX": "1",
            "SECRET_KEY": "bench-secret-key-0123456789abcdef-0123456789",
            "RUN_WORKER": "0",
            "LOG_FORMAT": "json",
        }
    )
    from adapters.migrations import ensure_migrated
    from service.app import create_app
    from service.container import build
    from service.settings import Settings

    settings = Settings.from_env()
    ensure_migrated(settings.eventsourcing_env, migrate=True)
    return create_app(build(settings))


def main() -> int:
    from service import logs
    from service.api.edge.guard import edge_guard
    from service.api.edge.http import LimitedHttpToolsProtocol
    from service.api.request_id import request_id_middleware

    # The access lines rendered as in production (JSON), into a buffer nobody reads.
    logs.configure("json", "INFO", stream=io.StringIO())
    sink = logging.getLogger().handlers[0]
    sink.stream = open(os.devnull, "w")  # for the process's life

    def with_edge() -> Any:
        app = bare_app()
        app.asgi_handler = request_id_middleware(app.asgi_handler)
        return app

    def with_guard() -> Any:
        app = bare_app(middleware=[edge_guard])
        app.asgi_handler = request_id_middleware(app.asgi_handler)
        return app

    with tempfile.TemporaryDirectory() as folder:
        stacks = [
            ("bare", bare_app(), HttpToolsProtocol),
            ("+ limits", bare_app(), LimitedHttpToolsProtocol),
            ("+ edge (id, access line, metrics)", with_edge(), HttpToolsProtocol),
            ("+ limits + edge", with_edge(), LimitedHttpToolsProtocol),
            ("+ limits + edge + guard", with_guard(), LimitedHttpToolsProtocol),
            ("service /healthz", service_app(folder), LimitedHttpToolsProtocol),
        ]
        results = measure(stacks)
    bare = results["bare"]
    print(
        f"\nHTTP edge, CPU µs per GET /healthz in one process (best of {ROUNDS} x "
        f"{PER_ROUND}; load {os.getloadavg()[0]:.2f})"
    )
    for name, us in results.items():
        print(f"  {name:<36} {us:7.1f} µs  {us / bare:5.2f}x bare  (+{us - bare:5.1f} µs)")
    layers = results["+ limits + edge"] - bare
    print(
        f"  request id, access line, metrics and limits: +{layers:.1f} µs = "
        f"{layers / bare:.2f} of bare (target <= 0.20: "
        f"{'met' if layers <= 0.2 * bare else 'MISSED'})"
    )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

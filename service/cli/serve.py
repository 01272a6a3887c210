"""`connections serve|worker|migrate`: the service's processes and the tables they need."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from typing import Any

from service.settings import Settings


def add_commands(sub: Any, services: Callable[[], Any]) -> None:
    """`services` builds the service's parts when a command runs."""
    serve = sub.add_parser("serve", help="serve the REST API (and, by default, the worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes")
    serve.set_defaults(run=_serve)

    worker = sub.add_parser("worker", help="run the background worker alone")
    worker.set_defaults(run=lambda args: _worker(services()))

    migrate = sub.add_parser("migrate", help="apply pending migrations of the service's tables")
    migrate.add_argument(
        "--status", action="store_true", help="list migrations (applied or pending); change nothing"
    )
    migrate.set_defaults(run=_migrate)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from adapters.migrations import ensure_migrated
    from service.logs import log_start

    settings = Settings.from_env()  # fail fast, with one clear line
    settings.check_bind(args.host)
    # Here, once, before the server processes start (each would refuse on its own).
    ensure_migrated(settings.eventsourcing_env, migrate=settings.migrate_on_start)
    log_start(settings, "serve", host=args.host, port=args.port, workers=args.workers)
    from service.api.edge.http import LimitedHttpToolsProtocol

    uvicorn.run(
        "service.asgi:create",
        factory=True,
        http=LimitedHttpToolsProtocol,  # header size and count caps, head and body timeouts
        timeout_keep_alive=5,  # an idle keep-alive connection closes after 5 s
        host=args.host,
        port=args.port,
        workers=args.workers,
        timeout_graceful_shutdown=15,
        access_log=False,
    )
    return 0


def _worker(services: Any) -> int:
    from service.logs import log_start
    from service.metrics import serve_metrics
    from service.workers.worker import Worker

    log_start(services.settings, "worker")
    serve_metrics(services.settings.metrics_port)
    worker = Worker(services)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.request_stop())
    worker.run_forever()
    services.close()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from adapters import migrations

    env = Settings.from_env().eventsourcing_env
    if args.status:
        for m in migrations.status(env):
            print(f"{m.revision}\t{'applied' if m.applied else 'pending'}\t{m.description}")
        return 0
    applied = migrations.upgrade(env)
    for m in applied:
        print(f"applied {m.revision}: {m.description}", file=sys.stderr)
    latest = migrations.status(env)[-1].revision
    print(f"database at {latest}{'' if applied else ' (nothing pending)'}", file=sys.stderr)
    return 0

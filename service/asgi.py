"""The ASGI entry point for `connections serve` (and any ASGI server): `service.asgi:create`.

Each server process calls `create()`: it configures logging, logs its configuration (masked)
and, unless `RUN_WORKER=0`, runs the worker as a thread whose heartbeat `/readyz` checks.
On shutdown the server stops taking requests, lets those in flight finish, then the worker
stops and the stores close.
"""

from __future__ import annotations

import os
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from litestar import Litestar
from psycopg_pool import PoolTimeout

from service.api.edge import http as http_limits
from service.app import create_app
from service.container import build
from service.logs import log_start
from service.metrics import STORE_ERRORS, Heartbeat
from service.runtime import tune_for_serving
from service.settings import Settings
from service.workers.worker import Worker


class EmbeddedWorker(Worker):
    """The worker thread inside a server process: it beats after every pass, failed or not
    (a failing store shows in /readyz's own store check), and counts store failures."""

    def __init__(self, *args: Any, heartbeat: Heartbeat, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heartbeat = heartbeat

    def run_once(self, *, timed: bool = True) -> Any:
        try:
            return super().run_once(timed=timed)
        except (OperationalError, InterfaceError, PoolTimeout):
            STORE_ERRORS.labels("worker").inc()
            raise
        finally:
            self.heartbeat.beat()


def create() -> Litestar:
    settings = Settings.from_env()
    log_start(settings, "api", pid=os.getpid())
    http_limits.configure(
        http_limits.HttpLimits(
            max_header_bytes=settings.max_header_bytes,
            max_headers=settings.max_headers,
            head_timeout=settings.http_head_timeout.total_seconds(),
            body_timeout=settings.http_body_timeout.total_seconds(),
        )
    )
    services = build(settings)
    heartbeat = Heartbeat() if settings.run_worker else None
    app = create_app(services, worker_heartbeat=heartbeat)
    # Live API keys from memory, revocations heard from every process (PostgreSQL).
    app.on_startup.append(lambda: services.api_keys.watch())
    app.on_startup.append(lambda: services.credentials.watch())
    if heartbeat is not None:
        worker = EmbeddedWorker(services, heartbeat=heartbeat)
        app.on_startup.append(lambda: worker.start_thread())
        app.on_shutdown.append(lambda: worker.stop())
    app.on_shutdown.append(lambda: services.close())
    app.on_startup.append(tune_for_serving)  # last: freezes what startup made
    return app

"""The ASGI entry point for `connections serve` (and any ASGI server): `service.asgi:create`."""

from __future__ import annotations

from litestar import Litestar

from service.api.app import create_app
from service.container import build
from service.settings import Settings
from service.worker import Worker


def create() -> Litestar:
    settings = Settings.from_env()
    services = build(settings)
    worker = Worker(services)
    app = create_app(services)
    if settings.run_worker:
        app.on_startup.append(lambda: worker.start_thread())
    app.on_shutdown.append(lambda: worker.stop())
    app.on_shutdown.append(lambda: services.close())
    return app

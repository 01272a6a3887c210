"""The litestar application."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from adapters.tables.sandbox_levers import SandboxLevers
from service.api import meta
from service.api import pages as connect_pages
from service.api.allow import options_handlers
from service.api.auth import guards_on_the_handler
from service.api.docs import OfflineSwagger, assets_router
from service.api.edge.guard import edge_guard
from service.api.openapi_media import document_media
from service.api.openapi_problems import document_problems
from service.api.problems import EXCEPTION_HANDLERS
from service.api.request_id import request_id_middleware
from service.audit import routes as audit_routes
from service.connect import oauth_routes
from service.connect import routes as connect_routes
from service.connections import routes as connections_routes
from service.console import routes as console_routes
from service.console.web import TEMPLATES as CONSOLE_TEMPLATES
from service.container import Services
from service.credentials import routes as credentials_routes
from service.credentials.hot_path import cached_access_tokens
from service.erasure import routes as erasure_routes
from service.mail import routes as mail_routes
from service.metrics import Heartbeat
from service.sandbox import build_sandbox_router
from service.sandbox.mail import TEMPLATES as SANDBOX_TEMPLATES
from service.sandbox.mail import mailbox_router
from service.webhooks import routes as webhooks_routes

VERSION = "1.0.0"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Marketplace connection service",
        version=VERSION,
        description=(
            "Tracks the lifecycle of connecting a seller's Amazon account to an integrator. "
            "Errors are RFC 9457 problems (application/problem+json) with a stable `code`; "
            "see GET /v1/errors."
        ),
        path="/docs",
        render_plugins=[OfflineSwagger()],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer", description="API key")
            }
        ),
        security=[{"apiKey": []}],
        use_handler_docstrings=False,
    )


def create_app(
    services: Services,
    *,
    extra_routes: list | None = None,
    worker_heartbeat: Heartbeat | None = None,
) -> Litestar:
    """`worker_heartbeat`: given when this process runs the worker, so /readyz checks it."""
    settings = services.settings
    routes = [
        *connections_routes.ROUTES,
        *webhooks_routes.ROUTES,
        *audit_routes.ROUTES,
        *erasure_routes.ROUTES,
        *meta.ROUTES,
        *oauth_routes.ROUTES,
        *connect_routes.ROUTES,
        *mail_routes.ROUTES,
        connect_pages.static_router(connect_routes.STATIC),
        assets_router(),
        *credentials_routes.ROUTES,
        *console_routes.ROUTES,  # pages for people: never in the OpenAPI schema
        console_routes.static_router(),
        *(extra_routes or []),
    ]
    if settings.sandbox:
        routes.append(
            build_sandbox_router(
                f"{settings.public_base_url}/v1/oauth/amazon/callback",
                f"{settings.public_base_url}/v1/oauth/amazon-ads/callback",
                SandboxLevers(services.tables),
            )
        )
    if settings.sandbox and not settings.smtp_url:
        routes.append(mailbox_router())  # mails are kept, not sent: read them here
    app = Litestar(
        route_handlers=[*options_handlers(routes), *routes],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(),
        template_config=connect_pages.template_config(
            connect_routes.TEMPLATES, SANDBOX_TEMPLATES, CONSOLE_TEMPLATES
        ),
        state=State({"services": services, "worker_heartbeat": worker_heartbeat}),
        request_max_body_size=settings.max_body_bytes,
        middleware=[edge_guard],  # every string from outside, checked before any handler
        debug=False,
        logging_config=None,  # service.logs configures logging, once per process
    )
    reads = services.connections.async_reads
    if reads is not None:
        app.on_shutdown.append(reads.close)  # this loop's pool (adapters.tables.async_reads)
    # Around the whole app, not per route: unknown paths get an id, a log line, metrics.
    app.asgi_handler = request_id_middleware(cached_access_tokens(app, app.asgi_handler))
    guards_on_the_handler(app)
    document_problems(app)
    document_media(app)
    return app

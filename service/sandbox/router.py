"""Where the sandbox's APIs are assembled under /sandbox/amazon.

A new sandbox API is a module with a `*_routes()` function, added to the list below.
"""

from __future__ import annotations

from litestar import Router

from service.sandbox.ads import ads_routes
from service.sandbox.consent import consent_routes
from service.sandbox.grants import Levers, MemoryLevers, grants_routes
from service.sandbox.login import login_routes
from service.sandbox.lwa import lwa_routes
from service.sandbox.orders import orders_routes
from service.sandbox.sellers import sellers_routes
from service.sandbox.tokens import tokens_routes


def build_sandbox_router(
    default_redirect_uri: str, default_ads_redirect_uri: str, levers: Levers | None = None
) -> Router:
    """The sandbox's routes; redirects go to these URIs unless the consent URL names one.
    `levers`: where revocations and throttles are kept (the store, for the service's own
    sandbox; this router's memory when not given)."""
    levers = levers if levers is not None else MemoryLevers()
    base = default_redirect_uri.split("/v1/", 1)[0]  # PUBLIC_BASE_URL
    return Router(
        path="/sandbox/amazon",
        route_handlers=[
            *consent_routes(default_redirect_uri, default_ads_redirect_uri),
            *lwa_routes(levers),
            *sellers_routes(levers),
            *ads_routes(),
            *login_routes(default_redirect_uri, f"{base}/v1/oauth/amazon/login", base),
            *orders_routes(levers),
            *tokens_routes(levers),
            *grants_routes(levers),
        ],
        include_in_schema=False,
    )

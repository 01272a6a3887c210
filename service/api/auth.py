"""API-key authentication, rate limiting and scope checks, as litestar guards.

Every route but the public ones (ops, reference, the OAuth callbacks) carries exactly one
`requires(scope)` guard; tests/api/test_security.py walks the route table to keep it so.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.handlers.http_handlers import HTTPRouteHandler

from domain.exceptions import DomainError
from service.api.caller import Caller
from service.api.rate_limit import RateLimiter

_LIMITER_LOCK = threading.Lock()


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


def authenticate(connection: ASGIConnection) -> Caller:
    """The caller behind the request's API key. Blocking (it may read the store): guards
    run it in a thread, so an unreachable database stalls this request, not the event loop."""
    state = connection.scope.setdefault("state", {})
    if "caller" in state:
        return state["caller"]
    services = connection.app.state.services
    record = services.api_keys.authenticate(_secret(connection))
    if record is None:
        raise Unauthenticated("The API key is unknown or was revoked.")
    services.api_keys.touch(record)
    return _admitted(connection, record)


def authenticate_cached(connection: ASGIConnection) -> Caller | None:
    """The caller, when the key is in memory and its last use needs no write: what most
    requests take, on the event loop, without a thread or a query. None: ask `authenticate`."""
    state = connection.scope.setdefault("state", {})
    if "caller" in state:
        return state["caller"]
    keys = connection.app.state.services.api_keys
    record = keys.cached(_secret(connection))
    if record is None or keys.touch_due(record):
        return None
    return _admitted(connection, record)


def bearer_secret(header: str) -> str | None:
    """The API key of an `Authorization: Bearer <key>` header; None for anything else."""
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def _secret(connection: ASGIConnection) -> str:
    secret = bearer_secret(connection.headers.get("authorization", ""))
    if secret is None:
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <key>'.")
    return secret


def _admitted(connection: ASGIConnection, record: Any) -> Caller:
    """The key's caller, once its rate allows the request."""
    wait = rate_limiter(connection.app.state).wait(record.id)
    if wait:
        raise TooManyRequestsException(
            f"This API key sent more than its rate allows; retry in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    caller = caller_with_key(record, connection.scope["state"].get("request_id"))
    connection.scope["state"]["caller"] = caller
    return caller


def caller_with_key(record: Any, request_id: str | None) -> Caller:
    return Caller(
        tenant_id=record.tenant_id,
        actor=f"api_key:{record.tenant_id}/{record.id}",
        request_id=request_id,
        scopes=frozenset(record.scopes),
    )


def rate_limiter(state: Any) -> RateLimiter:
    """The application's one limiter (`state`: its litestar State), made on first use
    from its settings."""
    with _LIMITER_LOCK:
        if state.get("rate_limiter") is None:
            settings = state.services.settings
            state.rate_limiter = RateLimiter(
                settings.rate_limit_per_second, settings.rate_limit_burst
            )
        return state.rate_limiter


Guard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]


def requires(scope: str) -> Guard:
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        caller = authenticate_cached(connection) or await anyio.to_thread.run_sync(
            authenticate, connection
        )
        if scope not in caller.scopes:
            raise Forbidden(f"This API key lacks the '{scope}' scope.", required_scope=scope)

    guard.__name__ = f"requires_{scope.replace(':', '_')}"
    guard.scope = scope  # type: ignore[attr-defined]  # read by the route-table test
    return guard


def scope_of(handler: BaseRouteHandler) -> str | None:
    """The scope a route requires, None for a public route."""
    guards = [g for layer in handler.ownership_layers for g in layer.guards or []]
    scopes = [g.scope for g in guards if hasattr(g, "scope")]
    return scopes[0] if scopes else None


def services_of(request: Any) -> Any:
    """The service's parts (service.container.Services), for route handlers."""
    return request.app.state.services


def caller_of(request: Any) -> Caller:
    return request.scope["state"]["caller"]


def guards_on_the_handler(app: Any) -> None:
    """Runs each route's guards on its handler as it is. litestar 2 hands every guard a
    fresh `copy(handler)` on each request (BaseRouteHandler.authorize_connection) so that
    a guard cannot change the route; the copy was 3 % of a create's server time and more
    of a GET's (`make profile`). This service's guards never touch the handler (`requires`
    ignores it), so nothing needs the copy. A handler needs a `__dict__` to hold the
    replacement: litestar's `get`, `post` and the like have one, its slotted
    `HTTPRouteHandler` (`route`, its own OPTIONS handlers) has none, hence `guarded_route`
    for a guarded route of several methods."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            guards = tuple(handler.resolve_guards())
            if guards and hasattr(handler, "__dict__"):
                handler.authorize_connection = _authorizer(handler, guards)


class guarded_route(HTTPRouteHandler):  # lower case: a decorator, as litestar's `route`
    """litestar's `route` (one handler for several methods) with an instance `__dict__`,
    so that `guards_on_the_handler` can spare its requests the copy."""


def _authorizer(handler: BaseRouteHandler, guards: tuple[Guard, ...]) -> Any:
    async def authorize_connection(connection: ASGIConnection) -> None:
        for guard in guards:
            await guard(connection, handler)

    return authorize_connection

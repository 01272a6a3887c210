"""API-key authentication and scope checks, as litestar guards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from domain.exceptions import DomainError
from service.connections import Caller


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


def authenticate(connection: ASGIConnection) -> Caller:
    state = connection.scope.setdefault("state", {})
    if "caller" in state:
        return state["caller"]
    header = connection.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Send an API key as 'Authorization: Bearer <key>'.")
    services = connection.app.state.services
    record = services.api_keys.authenticate(secret.strip())
    if record is None:
        raise Unauthenticated("The API key is unknown or was revoked.")
    services.api_keys.touch(record)
    caller = Caller(
        tenant_id=record.tenant_id,
        actor=f"api_key:{record.tenant_id}/{record.id}",
        request_id=state.get("request_id"),
        scopes=frozenset(record.scopes),
    )
    state["caller"] = caller
    return caller


def requires(scope: str) -> Callable[[ASGIConnection, BaseRouteHandler], None]:
    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        caller = authenticate(connection)
        if scope not in caller.scopes:
            raise Forbidden(f"This API key lacks the '{scope}' scope.", required_scope=scope)

    guard.__name__ = f"requires_{scope.replace(':', '_')}"
    return guard


def caller_of(request: Any) -> Caller:
    return request.scope["state"]["caller"]

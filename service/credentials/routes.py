"""Routes of the credentials capability: thin controllers over service.credentials."""

from __future__ import annotations

import time
from typing import Any

import anyio.to_thread
import msgspec
from litestar import HttpMethod, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Stream

from domain.access import ADS, advertising_profiles, chosen_profile
from domain.exceptions import ValidationFailed
from service.api.auth import caller_of, guarded_route, requires, services_of
from service.api.idempotency import begin
from service.api.instants import optional_instant
from service.api.problems import status_of
from service.api.responses import AccessLog, AccessToken, Connection, ok
from service.api.threads import blocking
from service.connections.presenters import rfc3339
from service.credentials.forward import forward
from service.credentials.imports import Imports
from service.credentials.schemas import AccessTokenRequest, ImportConnection
from service.credentials.views import access_token_json

CREDENTIALS, AUDIT = requires("credentials:read"), requires("audit:read")
PROXY, WRITE = requires("proxy:use"), requires("connections:write")
PROXY_MAX_BODY = 10 * 1024 * 1024  # SP-API bodies are JSON; documents go to S3 directly
TAGS = ["credentials"]
NO_STORE = {"Cache-Control": "no-store"}
ACCESS_TOKENS = "/v1/connections/{connection_id:str}/access_tokens"  # and hot_path's


@post(
    ACCESS_TOKENS,
    guards=[CREDENTIALS],
    operation_id="createAccessToken",
    responses=ok(AccessToken, "A fresh access token (Cache-Control: no-store)", 201),
    tags=TAGS,
    status_code=201,
    summary="A fresh access token for the SP-API or the Ads API",
    opt={"problems": {409}},
)
async def create_access_token(
    request: Request, connection_id: str, data: AccessTokenRequest
) -> Response:
    services = services_of(request)
    caller = caller_of(request)
    tokens = services.credentials.tokens
    # A token this process holds, with nothing announced since: answered on the event loop.
    # (Most such requests are answered before routing: service.credentials.hot_path.)
    known = tokens.recall(caller, connection_id, data.api)
    if known is not None:
        body = access_token(services, caller, connection_id, data, known.connection, known)
    else:
        body = await anyio.to_thread.run_sync(
            _loaded_access_token, services, caller, connection_id, data
        )
    return Response(body, status_code=201, headers=NO_STORE)


def _loaded_access_token(
    services: Any, caller: Any, connection_id: str, data: AccessTokenRequest
) -> dict[str, Any]:
    c, known, mark = services.credentials.tokens.connection(caller, connection_id, data.api)
    return access_token(services, caller, connection_id, data, c, known, mark)


def access_token(
    services: Any,
    caller: Any,
    connection_id: str,
    data: AccessTokenRequest,
    c: Any,
    known: Any,
    mark: Any = None,
) -> dict[str, Any]:
    """The answer's body, the token issued (or the problem raised) and the use logged."""
    if data.profile_id is not None and data.api != ADS:
        raise ValidationFailed("profile_id: only for api 'ads'.", field="profile_id")
    profiles = advertising_profiles(c) if data.api == ADS else []
    if data.profile_id is not None and chosen_profile(c, data.profile_id) is None:
        known_ids = ", ".join(p["profile_id"] for p in profiles) or "none"
        raise ValidationFailed(
            f"profile_id: not an Ads profile of this connection (its profiles: {known_ids}).",
            field="profile_id",
        )
    started, at = time.perf_counter(), services.clock.now()
    credentials = services.credentials
    status, outcome = 201, "error"
    try:
        issued = credentials.tokens.issue(c, data.api, caller.request_id, known, mark)
        status, outcome = 201, issued.outcome
    except Exception as e:
        status = status_of(e)
        outcome = getattr(e, "code", "INTERNAL_ERROR")
        raise
    finally:
        credentials.access_log.record(  # buffered: no store access here
            caller,
            connection_id,
            at=at,
            api=data.api,
            kind="access_token",
            method="POST",
            operation="access_tokens",
            status=status,
            outcome=outcome,
            duration=time.perf_counter() - started,
        )
    return access_token_json(c, data.api, issued, services.amazon.settings, profiles)


@get(
    "/v1/connections/{connection_id:str}/access_log",
    guards=[AUDIT],
    operation_id="listAccessLog",
    responses=ok(AccessLog, "A page of the access log, newest first"),
    tags=TAGS,
    summary="Every access token issued and call proxied for the connection, newest first",
)
@blocking
def list_access_log(
    request: Request,
    connection_id: str,
    limit: int = Parameter(default=50, ge=1, le=500),
    starting_after: str | None = Parameter(default=None, max_length=64),
) -> dict[str, Any]:
    services = services_of(request)
    caller = caller_of(request)
    services.connections.get(caller, connection_id)  # the tenant's own, or 404
    data, more = services.credentials.access_log.page(
        caller.tenant_id, connection_id, limit, starting_after
    )
    return {
        "object": "list",
        "data": data,
        "has_more": more,
        "next_cursor": data[-1]["id"] if more else None,
        "retention_days": services.settings.access_log_retention.days,
        "generated_at": rfc3339(services.clock.now()),
    }


def _proxy_operation_id(handler: Any, method: Any, components: Any) -> str:
    return f"proxy{str(method).capitalize()}"


@guarded_route(
    "/v1/connections/{connection_id:str}/proxy/{api:str}/{path:path}",
    http_method=[
        HttpMethod.GET,
        HttpMethod.POST,
        HttpMethod.PUT,
        HttpMethod.PATCH,
        HttpMethod.DELETE,
    ],
    guards=[PROXY],
    operation_id=_proxy_operation_id,
    tags=TAGS,
    summary="Call Amazon's SP-API or Ads API for this connection (any method, streamed)",
    request_max_body_size=PROXY_MAX_BODY,
    # Bodies go to Amazon as they come, streamed: the edge guard's body check would read
    # them whole first (query, path and kept headers are still checked).
    opt={"problems": {409}, "edge_body": False},
)
async def proxy_call(request: Request, connection_id: str, api: str, path: str) -> Stream:
    # Documented as the stream it is for large answers; a small one comes as one Response.
    return await forward(request, connection_id, api, path)


@post(
    "/v1/connections/import",
    guards=[WRITE],
    operation_id="importConnection",
    responses=ok(Connection, "The connection, api_authorized (Location: its URL)", 201),
    tags=TAGS,
    status_code=201,
    summary="Bring an authorization made elsewhere (validated with Amazon first)",
    description=(
        "The connection is created `api_authorized` with `selling_partner_id_source` "
        "`import`: the id is the tenant's word, not Amazon's. A tenant holds a selling "
        "partner in one live connection at a time, kept by the store: a second one, even "
        "at the same moment, is 409 `SELLING_PARTNER_ALREADY_CONNECTED`."
    ),
    opt={"problems": {409}},
)
@blocking
def import_connection(request: Request, data: ImportConnection) -> Response:
    caller = caller_of(request)
    services = services_of(request)
    authorized_at = optional_instant("authorized_at", data.authorized_at)
    once = begin(request, caller, data)
    if once.replayed is not None:
        return once.replayed
    with once:
        spec = msgspec.structs.asdict(data)
        for name in ("selling_partner_id", "refresh_token", "authorized_at"):
            spec.pop(name)
        if data.invited_by is not None:
            spec["invited_by"] = msgspec.structs.asdict(data.invited_by)
        c = Imports(services).run(
            caller,
            spec,
            selling_partner_id=data.selling_partner_id,
            refresh_token=data.refresh_token,
            authorized_at=authorized_at,
        )
        headers = {"Location": f"/v1/connections/{c.id}", "ETag": f'"{c.version}"'}
        return once.respond(201, services.connections.json(c), headers)


ROUTES = [create_access_token, list_access_log, proxy_call, import_connection]

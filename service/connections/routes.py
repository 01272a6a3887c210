"""Connection routes: thin controllers over ConnectionService."""

from datetime import datetime
from typing import Any

import anyio.to_thread
import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter

from adapters.tables.instants import iso
from adapters.tables.read_model import ListQuery
from domain import lifecycle as lc
from domain.errors import entry
from domain.exceptions import ValidationFailed
from domain.guide import next_steps, who_acts
from domain.lifecycle import PUBLIC_ACTIONS
from domain.marketplaces import REGIONS
from service.api.auth import caller_of, requires, services_of
from service.api.idempotency import begin, respond
from service.api.instants import optional_instant
from service.api.responses import ActionResult, Connection, ConnectionList, EventList, Guide, ok
from service.api.schemas import ACTION_BODIES, CreateConnection
from service.api.threads import blocking
from service.connections.presenters import event_json, rfc3339

READ, WRITE = requires("connections:read"), requires("connections:write")
TAGS = ["connections"]


def _with_link(request: Request) -> Any:
    """Adds the owner's `invitation_url` to a connection body (never stored with it)."""
    links = services_of(request).links

    def reveal(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("object") != "connection":
            return body
        ended = body.get("state") == lc.DISCONNECTED
        return {**body, "invitation_url": None if ended else links.url(body["id"])}

    return reveal


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def _if_match(request: Request) -> int | None:
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ValidationFailed('If-Match must be the connection\'s ETag, e.g. "3".')
    return int(value)


@post(
    "/v1/connections",
    guards=[WRITE],
    operation_id="createConnection",
    responses=ok(Connection, "The connection, invited (Location: its URL; ETag: its version)", 201),
    tags=TAGS,
    status_code=201,
    summary="Invite an owner to connect",
)
async def create_connection(request: Request, data: CreateConnection) -> Response:
    # Without an Idempotency-Key (its record is read and written through the blocking
    # tables) or a return_url (checked against the tenant's stored origins), a create
    # stays on the event loop: its command joins the loop's group commit.
    if data.return_url is not None or "idempotency-key" in request.headers:
        return await anyio.to_thread.run_sync(_create_blocking, request, data)
    caller = caller_of(request)
    connections = services_of(request).connections
    connection = await connections.create_async(caller, **_create_spec(data))
    body = _with_link(request)(connections.json(connection))
    connections.app.remember(connection)  # its next command or read here needs no load
    return respond(201, body, _created(connection))


def _create_blocking(request: Request, data: CreateConnection) -> Response:
    caller = caller_of(request)
    once = begin(request, caller, data, _with_link(request))
    if once.replayed is not None:
        return once.replayed
    with once:
        connections = services_of(request).connections
        connection = connections.create(caller, **_create_spec(data))
        return once.respond(201, connections.json(connection), _created(connection))


def _create_spec(data: CreateConnection) -> dict[str, Any]:
    spec = msgspec.structs.asdict(data)
    if data.invited_by is not None:
        spec["invited_by"] = msgspec.structs.asdict(data.invited_by)
    return spec


def _created(connection: Any) -> dict[str, str]:
    return {"Location": f"/v1/connections/{connection.id}", **_etag(connection.version)}


@get(
    "/v1/connections",
    guards=[READ],
    operation_id="listConnections",
    responses=ok(ConnectionList, "A page of connections, newest first"),
    tags=TAGS,
    summary="List connections, newest first",
)
async def list_connections(
    request: Request,
    limit: int = Parameter(default=20, ge=1, le=100),
    starting_after: str | None = None,
    state_filter: str | None = Parameter(query="state", default=None),
    region: str | None = None,
    selling_partner_id: str | None = None,
    owner_email: str | None = None,
    reauth_due_before: str | None = None,
) -> dict[str, Any]:
    caller = caller_of(request)
    if state_filter is not None and state_filter not in lc.STATES:
        raise ValidationFailed(f"state must be one of {', '.join(lc.STATES)}.")
    if region is not None and region not in REGIONS:
        raise ValidationFailed(f"region must be one of {', '.join(REGIONS)}.")
    service = services_of(request).connections
    due = optional_instant("reauth_due_before", reauth_due_before)

    def query(cursor: tuple[str, str] | None) -> ListQuery:
        return ListQuery(
            tenant_id=caller.tenant_id,
            limit=limit + 1,
            starting_after=cursor,
            state=state_filter,
            region=region,
            selling_partner_id=selling_partner_id,
            owner_email=owner_email,
            reauth_due_before=iso(due),
        )

    def blocking_page() -> list[dict[str, Any]]:
        cursor = service.cursor_of(caller, starting_after) if starting_after else None
        return service.list_json(query(cursor))

    # The first page on the event loop when it can be (PostgreSQL, the read model fresh);
    # otherwise, and for later pages (their cursor is a read of its own), in a thread.
    rows = None if starting_after else await service.list_json_async(query(None))
    if rows is None:
        rows = await anyio.to_thread.run_sync(blocking_page)
    data = [_with_link(request)(body) for body in rows[:limit]]
    return {
        "object": "list",
        "data": data,
        "has_more": len(rows) > limit,
        "next_cursor": data[-1]["id"] if len(rows) > limit else None,
    }


@get(
    "/v1/connections/{connection_id:str}",
    guards=[READ],
    operation_id="getConnection",
    responses=ok(Connection, "The connection (ETag: its version)"),
    tags=TAGS,
    summary="Read a connection, now or as it was",
    description=(
        "`selling_partner_id_source` says where `selling_partner_id` came from: `consent` "
        "when Amazon's callback carried it, `import` when the tenant supplied it "
        "(POST /v1/connections/import); null while there is none."
    ),
)
async def get_connection(
    request: Request,
    connection_id: str,
    version: int | None = None,
    as_of: str | None = None,
) -> Response:
    caller = caller_of(request)
    if version is not None and as_of is not None:
        raise ValidationFailed("Use either version or as_of, not both.")
    connections = services_of(request).connections
    # The latest version on the event loop (PostgreSQL); on SQLite, and for a version
    # or an instant of the past, in a thread.
    if version is None and as_of is None:
        body = await connections.get_json_async(caller, connection_id)
        if body is not None:
            return respond(200, _with_link(request)(body), _etag(body["version"]))

    def blocking_read() -> Response:
        connection = connections.get(
            caller, connection_id, version=version, as_of=optional_instant("as_of", as_of)
        )
        body = _with_link(request)(connections.json(connection))
        return respond(200, body, _etag(connection.version))

    return await anyio.to_thread.run_sync(blocking_read)


@get(
    "/v1/connections/{connection_id:str}/events",
    guards=[READ],
    operation_id="listConnectionEvents",
    responses=ok(EventList, "A page of the connection's events, oldest first"),
    tags=TAGS,
    summary="The connection's history, oldest first",
)
@blocking
def list_events(
    request: Request,
    connection_id: str,
    limit: int = Parameter(default=50, ge=1, le=500),
    starting_after: int = Parameter(default=0, ge=0, le=2**31 - 1),
) -> dict[str, Any]:
    events = services_of(request).connections.history(
        caller_of(request), connection_id, after_version=starting_after, limit=limit + 1
    )
    data = [event_json(e) for e in events[:limit]]
    return {
        "object": "list",
        "data": data,
        "has_more": len(events) > limit,
        "next_cursor": data[-1]["version"] if len(events) > limit else None,
    }


@get(
    "/v1/connections/{connection_id:str}/guide",
    guards=[READ],
    operation_id="getGuide",
    responses=ok(Guide, "What happens next, and support details"),
    tags=TAGS,
    summary="What happens next, and support details",
)
@blocking
def get_guide(request: Request, connection_id: str) -> dict[str, Any]:
    c = services_of(request).connections.get(caller_of(request), connection_id)
    last_error = None
    if c.last_error:
        item = entry(c.last_error["code"])
        last_error = {
            **c.last_error,
            "message": item.message,
            "remediation": list(item.remediation),
            "retryable": item.retryable,
        }
    return {
        "object": "guide",
        "connection_id": str(c.id),
        "state": c.state,
        "who_acts": who_acts(c),
        "next_steps": next_steps(c),
        "allowed_actions": c.allowed_actions,
        "last_error": last_error,
        "support": {
            "connection_id": str(c.id),
            "selling_partner_id": c.selling_partner_id,
            "last_attempt_at": rfc3339(c.last_attempt_at),
            "region": c.region,
            "marketplace_ids": list(c.marketplace_ids),
        },
    }


def _action_handler(action: str) -> Any:
    body_type = ACTION_BODIES[action]

    async def handler(request: Request, connection_id: str, data: Any = None) -> Response:
        body = msgspec.structs.asdict(data) if data is not None else {}
        # Without an Idempotency-Key (kept in the blocking tables), the command is loaded,
        # made and saved without leaving the loop (PostgreSQL).
        if "idempotency-key" not in request.headers:
            connections = services_of(request).connections
            expected = _if_match(request)
            result = await connections.act_async(
                caller_of(request), connection_id, action, body, expected
            )
            if result is not None:
                answer = _answer(connections, result)
                connections.app.remember(result.connection)
                return respond(200, _with_link(request)(answer), _etag(result.connection.version))
        return await anyio.to_thread.run_sync(blocking_handler, request, connection_id, body)

    def blocking_handler(request: Request, connection_id: str, body: dict[str, Any]) -> Response:
        caller = caller_of(request)
        expected = _if_match(request)
        once = begin(request, caller, {"connection_id": connection_id, **body}, _with_link(request))
        if once.replayed is not None:
            return once.replayed
        with once:
            connections = services_of(request).connections
            result = connections.act(caller, connection_id, action, body, expected)
            return once.respond(200, _answer(connections, result), _etag(result.connection.version))

    # A body is required exactly when its struct has required fields.
    required = any(f.required for f in msgspec.structs.fields(body_type))
    handler.__annotations__ = {
        "request": Request,
        "connection_id": str,
        "data": body_type if required else body_type | None,
        "return": Response,
    }
    if required:
        handler.__defaults__ = None
    handler.__name__ = f"action_{action}"
    return post(
        f"/v1/connections/{{connection_id:str}}/{action}",
        guards=[WRITE],
        operation_id=_camel(action),
        responses=ok(ActionResult, "The connection after the action (ETag: its version)"),
        tags=TAGS,
        status_code=200,
        summary=action.replace("_", " ").capitalize(),
    )(handler)


def _answer(connections: Any, result: Any) -> dict[str, Any]:
    extras = {k: rfc3339(v) if isinstance(v, datetime) else v for k, v in result.extras.items()}
    return {**connections.json(result.connection), **extras}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(w.capitalize() for w in rest)


ACTION_HANDLERS = [_action_handler(a) for a in PUBLIC_ACTIONS]
ROUTES = [
    create_connection,
    list_connections,
    get_connection,
    list_events,
    get_guide,
    *ACTION_HANDLERS,
]

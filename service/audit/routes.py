"""Audit and admin routes: the tenant's event feed, exports, chain verification, rebuilds."""

import itertools
import json
from collections.abc import Iterator
from typing import Any, Literal

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Stream

from adapters.event_positions import LARGEST
from adapters.tables.instants import iso
from service.api.auth import caller_of, requires, services_of
from service.api.instants import optional_instant
from service.api.responses import ChainReport, PositionedEventList, Rebuild, ok
from service.api.threads import blocking

AUDIT, ADMIN = requires("audit:read"), requires("admin")
MAX_POSITION = LARGEST  # positions are opaque 62-bit numbers (adapters.event_positions)
TAGS = ["audit"]


@get(
    "/v1/events",
    guards=[AUDIT],
    operation_id="listEvents",
    responses=ok(PositionedEventList, "A page of the tenant's events in commit order"),
    tags=TAGS,
    summary="The tenant's events in commit order, for consumers keeping their own copy",
)
@blocking
def list_events(
    request: Request,
    after: int = Parameter(default=0, ge=0, le=MAX_POSITION),
    limit: int = Parameter(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    services = services_of(request)
    tenant, positions = caller_of(request).tenant_id, services.audit.positions
    view = services.connections.fresh_view()
    rows = view.events(tenant, after=positions.reveal(tenant, after), limit=limit + 1)
    data = [
        {"position": positions.hide(tenant, r.position), **json.loads(r.document)}
        for r in rows[:limit]
    ]
    return {
        "object": "list",
        "data": data,
        "has_more": len(rows) > limit,
        "next_after": data[-1]["position"] if data else after,
    }


@get(
    "/v1/audit/export",
    guards=[AUDIT],
    operation_id="exportAudit",
    tags=TAGS,
    summary="Stream the tenant's history as JSON lines or CSV",
)
async def export(
    request: Request,
    format: Literal["jsonl", "csv"] = "jsonl",
    from_: str | None = Parameter(query="from", default=None),
    to: str | None = None,
) -> Stream:
    caller = caller_of(request)
    occurred_from = iso(optional_instant("from", from_))
    occurred_to = iso(optional_instant("to", to))
    services = services_of(request)
    # The history first, then the access log (every token issued, every proxied call).
    lines: Iterator[str] = itertools.chain(
        services.audit.export(
            caller.tenant_id, occurred_from=occurred_from, occurred_to=occurred_to, fmt=format
        ),
        services.credentials.access_log.export_lines(
            caller.tenant_id, occurred_from, occurred_to, format
        ),
    )
    media = "text/csv" if format == "csv" else "application/x-ndjson"  # charset added
    return Stream(
        lines,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="events.{format}"'},
    )


@get(
    "/v1/connections/{connection_id:str}/audit",
    guards=[AUDIT],
    operation_id="verifyConnectionChain",
    responses=ok(ChainReport, "The chain's report"),
    tags=TAGS,
    summary="Recompute the connection's hash chain and report the first broken version",
)
@blocking
def verify_chain(request: Request, connection_id: str) -> dict[str, Any]:
    services = services_of(request)
    services.app.load(caller_of(request).tenant_id, connection_id)  # tenant check
    return services.audit.verify(connection_id).as_dict()


@post(
    "/v1/admin/projections/rebuild",
    guards=[ADMIN],
    operation_id="rebuildProjections",
    responses=ok(Rebuild, "The read models, rebuilt"),
    tags=["admin"],
    status_code=200,
    summary="Rebuild every read model from the event log",
)
@blocking
def rebuild(request: Request) -> Response:
    applied = services_of(request).projection.rebuild()
    return Response(
        {
            "object": "rebuild",
            "projections": ["connections_view", "events_index"],
            "events_applied": applied,
        }
    )


ROUTES = [list_events, export, verify_chain, rebuild]

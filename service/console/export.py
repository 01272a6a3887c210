"""A connection's history exported from the console (auditors): its events as JSON Lines or
CSV, the columns of the audit export, recorded as done by the person."""

from __future__ import annotations

import json

from litestar import Request, Response, get

from domain.exceptions import NotFound
from service.api.auth import services_of
from service.api.exports import EVENT_COLUMNS, csv_line, event_cells
from service.api.threads import blocking
from service.connections.presenters import event_json
from service.console import people as roles
from service.console.web import allowed, caller_of, missing, record


@get("/console/connections/{connection_id:str}/export", include_in_schema=False)
@blocking
def export(request: Request, connection_id: str) -> Response:
    session = allowed(request, roles.EXPORT)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    fmt = "csv" if request.query_params.get("format") == "csv" else "jsonl"
    try:
        events = services.connections.history(
            caller_of(request, session), connection_id, limit=100_000
        )
    except NotFound:
        return missing(request, session)
    bodies = [event_json(e) for e in events]
    if fmt == "csv":
        lines = [csv_line(EVENT_COLUMNS)] + [csv_line(event_cells(b)) for b in bodies]
        media = "text/csv"
    else:
        lines = [json.dumps(b, separators=(",", ":")) + "\n" for b in bodies]
        media = "application/jsonl"
    record(request, session, connection_id, "history_exported", f"{len(bodies)} events as {fmt}")
    return Response(
        "".join(lines),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="connection-{connection_id}.{fmt}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )

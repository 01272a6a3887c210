"""A connection's page: its state on the diagram, why it failed and what comes next, the
support block, the history tools (as it was at an instant or version, the chain's verdict,
the export) and one timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get

from adapters.tables.instants import iso
from domain import guide
from domain import lifecycle as lc
from domain.exceptions import NotFound
from service.api.auth import services_of
from service.api.threads import blocking
from service.connect.journey import error_block, marketplace_names, support_block
from service.console import listing, timeline
from service.console import people as roles
from service.console.sessions import Session
from service.console.web import allowed, caller_of, missing, now_of, page

DIAGRAM = (*listing.FUNNEL, lc.REAUTH_DUE, lc.DISCONNECTED)
NOTICES = {
    "resent": "The invitation was sent again.",
    "disconnected": "The connection is disconnected.",
    "redelivered": "A new delivery of the webhook is queued; it appears below with its attempts.",
}


def _read_instant(text: str) -> datetime | None:
    """RFC 3339, or a browser's datetime-local (read as UTC)."""
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def connection_page(
    request: Request,
    session: Session,
    connection_id: str,
    *,
    verdict: Any = None,
    link: str | None = None,
    status: int = 200,
    problem: str | None = None,
) -> Response:
    services = services_of(request)
    caller = caller_of(request, session)
    tenant = session.person.tenant_id
    q = request.query_params
    as_of, version, asked = None, None, None
    if q.get("as_of"):
        as_of = _read_instant(q["as_of"])
        asked = q["as_of"]
        if as_of is None:
            problem = problem or f"{q['as_of']!r} is not a date and time (e.g. 2026-01-31T14:00Z)."
    elif q.get("version", "").isdigit():
        version = int(q["version"])
    try:
        now_c = services.connections.get(caller, connection_id)
    except NotFound:
        return missing(request, session)
    c, past_problem = now_c, None
    if as_of is not None or version is not None:
        try:
            c = services.connections.get(caller, connection_id, version=version, as_of=as_of)
        except NotFound as e:
            past_problem = e.detail
    events = services.connections.history(caller, connection_id, limit=timeline.EVENTS)
    if c is not now_c:
        events = [e for e in events if e.originator_version <= c.version]
    views = services.console.views
    delivery_rows = views.deliveries_of(tenant, connection_id, timeline.DELIVERIES)
    attempts = services.webhooks.tables.attempts([d["id"] for d in delivery_rows])
    access_rows, _ = services.credentials.access_log.page(
        tenant, connection_id, timeline.ACCESS, None
    )
    entries = timeline.merged(
        timeline.lifecycle(events),
        timeline.deliveries(delivery_rows, attempts) if c is now_c else [],
        timeline.mails(services.mail.tables.of_connection(tenant, connection_id))
        if c is now_c
        else [],
        timeline.access(access_rows) if c is now_c else [],
        timeline.console_actions(views.actions_of(tenant, connection_id, 200))
        if c is now_c
        else [],
    )
    stuck = views.with_stuck_deliveries(tenant, [connection_id])
    context = {
        "title": f"Connection {connection_id[:8]}",
        "c": c,
        "current": now_c,
        "past": c is not now_c,
        "asked": asked or (f"version {version}" if version else None),
        "as_of_text": q.get("as_of", "")[:40],
        "past_problem": past_problem,
        "problem": problem,
        "diagram": DIAGRAM,
        "reached": listing._STAGE.get(c.state, -1),
        "region_name": listing.REGIONS.get(c.region, c.region),
        "marketplaces": marketplace_names(c),
        "support": support_block(c),
        "error": error_block(c),
        "who_acts": guide.who_acts(c),
        "next_steps": guide.next_steps(c),
        "attention": listing.attention_of(now_c, stuck, now_of(request)),
        "entries": entries,
        "verdict": verdict,
        "link": link,
        "notice": NOTICES.get(q.get("done", "")),
        "can_resend": lc.INVITED == now_c.state,
        "can_disconnect": now_c.state != lc.DISCONNECTED,
        "versions": now_c.version,
        "now_text": iso(now_of(request))[:16] if now_of(request) else "",
    }
    return page(request, "connection.html", context, session, status=status)


@get("/console/connections/{connection_id:str}", include_in_schema=False)
@blocking
def connection(request: Request, connection_id: str) -> Response:
    session = allowed(request, roles.READ)
    if isinstance(session, Response):
        return session
    return connection_page(request, session, connection_id)

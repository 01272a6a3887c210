"""The console's pages: the connection list, a connection, webhook endpoints, the
operator's view and the console's people. Thin handlers: reads through the services the
API uses, actions through the same application services, as `console:<email>`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from adapters.tables.instants import iso
from domain import guide
from domain import lifecycle as lc
from domain.errors import SELLER_FACING
from domain.exceptions import DomainError, NotFound
from service.api.auth import services_of
from service.api.caller import Caller
from service.api.exports import csv_line
from service.api.threads import blocking
from service.connect.journey import error_block, marketplace_names, support_block
from service.connections.presenters import event_json
from service.console import listing, timeline
from service.console import people as roles
from service.console.sessions import Session
from service.console.sign_in import ROUTES as SIGN_IN_ROUTES
from service.console.web import (
    ROLE_NAMES,
    STATIC,
    Form,
    allowed,
    field,
    message,
    page,
    posted,
)

REGIONS = {"na": "North America", "eu": "Europe", "fe": "Far East"}
DIAGRAM = (*listing.FUNNEL, lc.REAUTH_DUE, lc.DISCONNECTED)
NOTICES = {
    "resent": "The invitation was sent again.",
    "disconnected": "The connection is disconnected.",
    "redelivered": "A new delivery of the webhook is queued; it appears below with its attempts.",
    "added": "The person can now sign in.",
    "removed": "The person can no longer sign in; their sessions have ended.",
}


def _caller(request: Request, session: Session) -> Caller:
    return Caller(
        tenant_id=session.person.tenant_id,
        actor=session.person.actor,
        request_id=request.scope.get("state", {}).get("request_id"),
    )


def _now(request: Request) -> datetime:
    return services_of(request).clock.now()


def _missing(request: Request, session: Session) -> Response:
    return message(
        request,
        session,
        404,
        "No such connection",
        "This console has no connection with that id.",
        steps=["Search the connection list by its id, seller ID or owner e-mail."],
    )


def _record(
    request: Request, session: Session, connection_id: str, action: str, detail: str
) -> None:
    services_of(request).console.views.record(
        session.person.tenant_id,
        connection_id,
        session.person.actor,
        action,
        detail,
        iso(_now(request)) or "",
    )


# ----------------------------------------------------------------------------- the list


@get("/console", include_in_schema=False)
@blocking
def connection_list(request: Request) -> Response:
    session = allowed(request, roles.READ)
    if isinstance(session, Response):
        return session
    services, q = services_of(request), request.query_params
    filters = listing.Filters(
        q=q.get("q", "")[:200],
        state=q.get("state", "") if q.get("state") in lc.STATES else "",
        region=q.get("region", "") if q.get("region") in REGIONS else "",
        error=q.get("error", "")[:80].upper(),
        attention=q.get("attention") == "1",
        after=q.get("after", "")[:64],
        period=q.get("period", "30") if q.get("period") in listing.PERIODS else "30",
    )
    tenant, now = session.person.tenant_id, _now(request)
    found = listing.search(services, tenant, filters, now)
    params = {k: v for k, v in request.query_params.items() if k != "after" and v}
    context = {
        "title": "Connections",
        "filters": filters,
        "found": found,
        "states": lc.STATES,
        "regions": REGIONS,
        "periods": listing.PERIODS,
        "errors": sorted(SELLER_FACING),
        "funnel": listing.funnel(services, tenant, filters.period, now),
        "next_query": _query({**params, "after": found.next_after}) if found.next_after else None,
        "first_query": _query(params) if filters.after else None,
    }
    return page(request, "list.html", context, session)


def _query(params: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return "?" + urlencode(params)


# ----------------------------------------------------------------------- a connection


def _read_instant(text: str) -> datetime | None:
    """RFC 3339, or a browser's datetime-local (read as UTC)."""
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _connection_page(
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
    caller = _caller(request, session)
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
        return _missing(request, session)
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
        "region_name": REGIONS.get(c.region, c.region),
        "marketplaces": marketplace_names(c),
        "support": support_block(c),
        "error": error_block(c),
        "who_acts": guide.who_acts(c),
        "next_steps": guide.next_steps(c),
        "attention": listing.attention_of(now_c, stuck, _now(request)),
        "entries": entries,
        "verdict": verdict,
        "link": link,
        "notice": NOTICES.get(q.get("done", "")),
        "can_resend": lc.INVITED == now_c.state,
        "can_disconnect": now_c.state != lc.DISCONNECTED,
        "versions": now_c.version,
        "now_text": iso(_now(request))[:16] if _now(request) else "",
    }
    return page(request, "connection.html", context, session, status=status)


@get("/console/connections/{connection_id:str}", include_in_schema=False)
@blocking
def connection(request: Request, connection_id: str) -> Response:
    session = allowed(request, roles.READ)
    if isinstance(session, Response):
        return session
    return _connection_page(request, session, connection_id)


def _act(request: Request, data: dict, connection_id: str, what: str) -> Response:
    session = posted(request, data, what)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    caller = _caller(request, session)
    try:
        if what == roles.RESEND:
            services.connections.act(caller, connection_id, "resend_invitation", {})
            done = "resent"
        else:
            reason = field(data, "reason")
            if not reason or len(reason) > 500:
                return _connection_page(
                    request,
                    session,
                    connection_id,
                    status=422,
                    problem="Give a reason for disconnecting (at most 500 characters).",
                )
            services.connections.act(caller, connection_id, "disconnect", {"reason": reason})
            done = "disconnected"
    except NotFound:
        return _missing(request, session)
    except DomainError as e:
        return _connection_page(request, session, connection_id, status=409, problem=e.detail)
    return Redirect(f"/console/connections/{connection_id}?done={done}", status_code=303)


@post(
    "/console/connections/{connection_id:str}/resend-invitation",
    include_in_schema=False,
    status_code=200,
)
@blocking
def resend_invitation(request: Request, connection_id: str, data: Form) -> Response:
    return _act(request, data, connection_id, roles.RESEND)


@post(
    "/console/connections/{connection_id:str}/disconnect", include_in_schema=False, status_code=200
)
@blocking
def disconnect(request: Request, connection_id: str, data: Form) -> Response:
    return _act(request, data, connection_id, roles.DISCONNECT)


@post(
    "/console/connections/{connection_id:str}/invitation-link",
    include_in_schema=False,
    status_code=200,
)
@blocking
def invitation_link(request: Request, connection_id: str, data: Form) -> Response:
    session = posted(request, data, roles.COPY_LINK)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    try:
        c = services.connections.get(_caller(request, session), connection_id)
    except NotFound:
        return _missing(request, session)
    if c.state == lc.DISCONNECTED:
        return _connection_page(
            request,
            session,
            connection_id,
            status=409,
            problem="A disconnected connection's link no longer works.",
        )
    _record(request, session, connection_id, "invitation_link_copied", "")
    return _connection_page(request, session, connection_id, link=services.links.url(c.id))


@post(
    "/console/connections/{connection_id:str}/redeliver", include_in_schema=False, status_code=200
)
@blocking
def redeliver(request: Request, connection_id: str, data: Form) -> Response:
    session = posted(request, data, roles.REDELIVER)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    tenant = session.person.tenant_id
    delivery_id = field(data, "delivery")
    ours = {d["id"] for d in services.console.views.deliveries_of(tenant, connection_id, 1_000)}
    if delivery_id not in ours:
        return _missing(request, session)
    new, _ = services.webhooks.endpoints.redeliver(tenant, delivery_id)
    _record(request, session, connection_id, "webhook_redelivered", f"{delivery_id} as {new.id}")
    return Redirect(f"/console/connections/{connection_id}?done=redelivered", status_code=303)


@post("/console/connections/{connection_id:str}/verify", include_in_schema=False, status_code=200)
@blocking
def verify(request: Request, connection_id: str, data: Form) -> Response:
    session = posted(request, data, roles.VERIFY)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    try:
        services.connections.get(_caller(request, session), connection_id)  # the tenant check
    except NotFound:
        return _missing(request, session)
    report = services.audit.verify(connection_id)
    verdict = "intact" if report.ok else "broken"
    _record(
        request,
        session,
        connection_id,
        "history_verified",
        f"{verdict}, {report.versions} versions",
    )
    return _connection_page(request, session, connection_id, verdict=report)


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
            _caller(request, session), connection_id, limit=100_000
        )
    except NotFound:
        return _missing(request, session)
    bodies = [event_json(e) for e in events]
    if fmt == "csv":
        head = [
            "id",
            "connection_id",
            "version",
            "type",
            "occurred_at",
            "actor",
            "request_id",
            "data",
        ]
        lines = [csv_line(head)] + [
            csv_line(
                [
                    b["id"],
                    b["connection_id"],
                    b["version"],
                    b["type"],
                    b["occurred_at"],
                    b["actor"],
                    b["request_id"] or "",
                    json.dumps(b["data"], separators=(",", ":")),
                ]
            )
            for b in bodies
        ]
        media = "text/csv"
    else:
        lines = [json.dumps(b, separators=(",", ":")) + "\n" for b in bodies]
        media = "application/jsonl"
    _record(request, session, connection_id, "history_exported", f"{len(bodies)} events as {fmt}")
    return Response(
        "".join(lines),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="connection-{connection_id}.{fmt}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --------------------------------------------------------------------------- webhooks


@get("/console/webhooks", include_in_schema=False)
@blocking
def webhooks(request: Request) -> Response:
    session = allowed(request, roles.READ)
    if isinstance(session, Response):
        return session
    services, tenant = services_of(request), session.person.tenant_id
    since = _now(request) - timedelta(days=7)
    counts = services.console.views.delivery_counts(tenant, iso(since) or "")
    tried = services.console.views.attempt_counts(tenant, iso(since) or "")
    endpoints = []
    for e in services.webhooks.endpoints.list(tenant, 100, None):
        n = counts.get(e.id, {})
        attempts, failed = tried.get(e.id, (0, 0))
        recent = services.webhooks.endpoints.deliveries(tenant, e.id, 10)
        endpoints.append(
            {
                "row": e,
                "counts": n,
                "attempts": attempts,
                "failure_rate": round(100 * failed / attempts) if attempts else None,
                "recent": [
                    {"d": d, "attempts": attempts, "last": attempts[-1] if attempts else None}
                    for d, attempts in recent
                ],
            }
        )
    return page(
        request, "webhooks.html", {"title": "Webhook endpoints", "endpoints": endpoints}, session
    )


# --------------------------------------------------------------------------- operator


@get("/console/operator", include_in_schema=False)
@blocking
def operator(request: Request) -> Response:
    session = allowed(request, roles.OPERATE)
    if isinstance(session, Response):
        return session
    services, tenant = services_of(request), session.person.tenant_id
    latest = services.app.recorder.max_notification_id() or 0
    followers = []
    for f in services.followers:
        position = f.step.position()
        fault = f.stuck()
        followers.append(
            {"name": f.name, "position": position, "lag": latest - position, "fault": fault}
        )
    amazon = services.amazon
    credentials = amazon.credentials.status()
    context = {
        "title": "Operator's view",
        "latest": latest,
        "followers": followers,
        "sandbox": services.settings.sandbox,
        "application_id": amazon.settings.application_id,
        "client_id": amazon.settings.lwa_client_id,
        "credentials": credentials,
        "mails": services.console.views.mails_of_tenant(tenant, 50),
    }
    return page(request, "operator.html", context, session)


# ----------------------------------------------------------------------------- people


@get("/console/people", include_in_schema=False)
@blocking
def people(request: Request) -> Response:
    session = allowed(request, roles.MANAGE_PEOPLE)
    if isinstance(session, Response):
        return session
    return _people_page(request, session)


def _people_page(
    request: Request, session: Session, *, status: int = 200, problem: str | None = None
) -> Response:
    rows = services_of(request).console.people.of_tenant(session.person.tenant_id)
    context = {
        "title": "People",
        "rows": rows,
        "roles": ROLE_NAMES,
        "problem": problem,
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }
    return page(request, "people.html", context, session, status=status)


@post("/console/people", include_in_schema=False, status_code=200)
@blocking
def add_person(request: Request, data: Form) -> Response:
    session = posted(request, data, roles.MANAGE_PEOPLE)
    if isinstance(session, Response):
        return session
    try:
        services_of(request).console.people.add(
            session.person.tenant_id, field(data, "email"), field(data, "role")
        )
    except DomainError as e:
        return _people_page(request, session, status=422, problem=e.detail)
    return Redirect("/console/people?done=added", status_code=303)


@post("/console/people/remove", include_in_schema=False, status_code=200)
@blocking
def remove_person(request: Request, data: Form) -> Response:
    session = posted(request, data, roles.MANAGE_PEOPLE)
    if isinstance(session, Response):
        return session
    services_of(request).console.people.remove(session.person.tenant_id, field(data, "email"))
    return Redirect("/console/people?done=removed", status_code=303)


def static_router() -> Router:
    return create_static_files_router(
        path="/console/static", directories=[STATIC], include_in_schema=False, cache_control=None
    )


ROUTES = [
    *SIGN_IN_ROUTES,
    connection_list,
    connection,
    resend_invitation,
    disconnect,
    invitation_link,
    redeliver,
    verify,
    export,
    webhooks,
    operator,
    people,
    add_person,
    remove_person,
]

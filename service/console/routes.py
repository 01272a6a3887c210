"""The console's pages: the connection list, webhook endpoints, the operator's view and
the console's people; with a connection's page (`connection.py`), its actions
(`actions.py`), its export (`export.py`) and signing in (`sign_in.py`), every route."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from adapters.tables.instants import iso
from domain import lifecycle as lc
from domain.errors import SELLER_FACING
from domain.exceptions import DomainError
from service.api.auth import services_of
from service.api.threads import blocking
from service.console import actions, connection, export, listing
from service.console import people as roles
from service.console.sessions import Session
from service.console.sign_in import ROUTES as SIGN_IN_ROUTES
from service.console.web import ROLE_NAMES, STATIC, Form, allowed, field, now_of, page, posted

NOTICES = {
    "added": "The person can now sign in.",
    "removed": "The person can no longer sign in; their sessions have ended.",
}

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
        region=q.get("region", "") if q.get("region") in listing.REGIONS else "",
        error=q.get("error", "")[:80].upper(),
        attention=q.get("attention") == "1",
        after=q.get("after", "")[:64],
        period=q.get("period", "30") if q.get("period") in listing.PERIODS else "30",
    )
    tenant, now = session.person.tenant_id, now_of(request)
    found = listing.search(services, tenant, filters, now)
    params = {k: v for k, v in request.query_params.items() if k != "after" and v}
    context = {
        "title": "Connections",
        "filters": filters,
        "found": found,
        "states": lc.STATES,
        "regions": listing.REGIONS,
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


# --------------------------------------------------------------------------- webhooks


@get("/console/webhooks", include_in_schema=False)
@blocking
def webhooks(request: Request) -> Response:
    session = allowed(request, roles.READ)
    if isinstance(session, Response):
        return session
    services, tenant = services_of(request), session.person.tenant_id
    since = now_of(request) - timedelta(days=7)
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
    connection.connection,
    *actions.ROUTES,
    export.export,
    webhooks,
    operator,
    people,
    add_person,
    remove_person,
]

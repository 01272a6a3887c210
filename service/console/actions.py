"""What support does on a connection's page (resend the invitation, show its link,
disconnect with a reason, redeliver a webhook) and what an auditor does (verify the hash
chain), through the same application services as the API, as `console:<email>`."""

from __future__ import annotations

from litestar import Request, Response, post
from litestar.response import Redirect

from domain import lifecycle as lc
from domain.exceptions import DomainError, NotFound
from service.api.auth import services_of
from service.api.threads import blocking
from service.console import people as roles
from service.console.connection import connection_page
from service.console.web import Form, caller_of, field, missing, posted, record


def _act(request: Request, data: dict, connection_id: str, what: str) -> Response:
    session = posted(request, data, what)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    caller = caller_of(request, session)
    try:
        if what == roles.RESEND:
            services.connections.act(caller, connection_id, "resend_invitation", {})
            done = "resent"
        else:
            reason = field(data, "reason")
            if not reason or len(reason) > 500:
                return connection_page(
                    request,
                    session,
                    connection_id,
                    status=422,
                    problem="Give a reason for disconnecting (at most 500 characters).",
                )
            services.connections.act(caller, connection_id, "disconnect", {"reason": reason})
            done = "disconnected"
    except NotFound:
        return missing(request, session)
    except DomainError as e:
        return connection_page(request, session, connection_id, status=409, problem=e.detail)
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
        c = services.connections.get(caller_of(request, session), connection_id)
    except NotFound:
        return missing(request, session)
    if c.state == lc.DISCONNECTED:
        return connection_page(
            request,
            session,
            connection_id,
            status=409,
            problem="A disconnected connection's link no longer works.",
        )
    record(request, session, connection_id, "invitation_link_copied", "")
    return connection_page(request, session, connection_id, link=services.links.url(c.id))


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
        return missing(request, session)
    new, _ = services.webhooks.endpoints.redeliver(tenant, delivery_id)
    record(request, session, connection_id, "webhook_redelivered", f"{delivery_id} as {new.id}")
    return Redirect(f"/console/connections/{connection_id}?done=redelivered", status_code=303)


@post("/console/connections/{connection_id:str}/verify", include_in_schema=False, status_code=200)
@blocking
def verify(request: Request, connection_id: str, data: Form) -> Response:
    session = posted(request, data, roles.VERIFY)
    if isinstance(session, Response):
        return session
    services = services_of(request)
    try:
        services.connections.get(caller_of(request, session), connection_id)  # the tenant check
    except NotFound:
        return missing(request, session)
    report = services.audit.verify(connection_id)
    verdict = "intact" if report.ok else "broken"
    record(
        request,
        session,
        connection_id,
        "history_verified",
        f"{verdict}, {report.versions} versions",
    )
    return connection_page(request, session, connection_id, verdict=report)


ROUTES = [resend_invitation, disconnect, invitation_link, redeliver, verify]

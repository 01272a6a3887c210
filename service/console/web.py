"""What every console page shares: the signed-in person (or the way to sign in), the
role check, the CSRF check, and rendering with the strict headers of service.api.pages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from adapters.tables.instants import iso
from service.api.auth import services_of
from service.api.caller import Caller
from service.api.pages import render
from service.console.people import ALLOWED
from service.console.sessions import COOKIE, Session, same

TEMPLATES = Path(__file__).with_name("templates")  # under console/, beside the others
STATIC = Path(__file__).with_name("static")
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
ROLE_NAMES = {
    "viewer": "Viewer",
    "support": "Support",
    "auditor": "Auditor",
    "admin": "Administrator",
}


def console_of(request: Request) -> Any:
    return services_of(request).console


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    session: Session | None,
    *,
    status: int = 200,
) -> Response:
    services = services_of(request)
    tenant = services.tenants.get(session.person.tenant_id) if session else None
    base = {
        "session": session,
        "person": session.person if session else None,
        "role_name": ROLE_NAMES.get(session.person.role, "") if session else "",
        "csrf": session.csrf if session else context.get("csrf"),
        "tenant_name": tenant.display_name if tenant else None,
        "may": (lambda what: session is not None and session.person.may(what)),
        "path": request.url.path,
    }
    return render(request, f"console/{template}", {**base, **context}, status=status)


def message(
    request: Request,
    session: Session | None,
    status: int,
    title: str,
    detail: str,
    *,
    steps: list[str] | None = None,
) -> Response:
    context = {"title": title, "detail": detail, "steps": steps or []}
    response = page(request, "message.html", context, session, status=status)
    if status == 429:
        response.headers["Retry-After"] = "900"
    return response


def signed_in(request: Request) -> Session | Response:
    """The request's live session, or the way to the sign-in page."""
    session, timed_out = console_of(request).sessions.current(request.cookies.get(COOKIE))
    if session is not None:
        return session
    target = "/console/sign-in?ended=idle" if timed_out else "/console/sign-in"
    return console_of(request).sessions.clear_cookie(Redirect(target, status_code=303))


def allowed(request: Request, what: str) -> Session | Response:
    """The session of a person whose role allows `what`; else a page saying it does not."""
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    if not session.person.may(what):
        roles = [ROLE_NAMES[r] for r, may in ALLOWED.items() if what in may]
        return message(
            request,
            session,
            403,
            "Your role does not allow this",
            f"You are signed in as {ROLE_NAMES[session.person.role]}. "
            f"This needs one of: {', '.join(roles)}.",
            steps=["Ask an administrator of this console to change your role."],
        )
    return session


def posted(request: Request, data: dict[str, Any], what: str) -> Session | Response:
    """As `allowed`, for a form: its CSRF token must be the session's."""
    session = allowed(request, what)
    if isinstance(session, Response):
        return session
    if not same(field(data, "csrf"), session.csrf):
        return refused_form(request, session)
    return session


def refused_form(request: Request, session: Session | None) -> Response:
    return message(
        request,
        session,
        403,
        "This form has expired",
        "The form was not sent from this console's own page, or it is too old.",
        steps=["Go back, reload the page and try again."],
    )


def field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def caller_of(request: Request, session: Session) -> Caller:
    return Caller(
        tenant_id=session.person.tenant_id,
        actor=session.person.actor,
        request_id=request.scope.get("state", {}).get("request_id"),
    )


def now_of(request: Request) -> datetime:
    return services_of(request).clock.now()


def missing(request: Request, session: Session) -> Response:
    return message(
        request,
        session,
        404,
        "No such connection",
        "This console has no connection with that id.",
        steps=["Search the connection list by its id, seller ID or owner e-mail."],
    )


def record(
    request: Request, session: Session, connection_id: str, action: str, detail: str
) -> None:
    services_of(request).console.views.record(
        session.person.tenant_id,
        connection_id,
        session.person.actor,
        action,
        detail,
        iso(now_of(request)) or "",
    )

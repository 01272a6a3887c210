"""Signing in and out of the console.

Two ways in, both answering the same for addresses that may use the console and for
addresses that may not: a one-time link e-mailed to the address (the page says only that
a link is on its way if the address may sign in), or a password set through such a link.
Every attempt counts against the address and the client (`Sessions.allowed`, kept in the
store); past the limit the answer is 429 whatever the address. The link opens a page whose
button signs in, so a mail scanner that fetches links spends nothing.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.response import Redirect

from domain.exceptions import ValidationFailed
from service.api.auth import services_of
from service.api.threads import blocking
from service.console.people import READ, normal_email
from service.console.sessions import FORM_COOKIE, same
from service.console.web import Form, allowed, console_of, field, message, page, posted

NOTICES = {
    "idle": "Your session ended after 30 minutes without activity. Sign in again.",
    "out": "You are signed out.",
}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _form_page(request: Request, template: str, context: dict, status: int = 200) -> Response:
    """A page with a form shown before any session: its CSRF token doubles a cookie."""
    sessions = console_of(request).sessions
    token = sessions.form_token(request.cookies.get(FORM_COOKIE))
    response = page(request, template, {**context, "csrf": token}, None, status=status)
    return sessions.set_form_cookie(response, token)


def _form_ok(request: Request, data: dict) -> bool:
    return same(field(data, "csrf"), request.cookies.get(FORM_COOKIE))


def _throttled(request: Request) -> Response:
    return message(
        request,
        None,
        429,
        "Too many attempts",
        "There were too many sign-in attempts for this address or from this network.",
        steps=[
            "Wait 15 minutes, then try again.",
            "Use the newest e-mailed link, if you have one.",
        ],
    )


@get("/console/sign-in", include_in_schema=False)
@blocking
def sign_in_page(request: Request) -> Response:
    notice = NOTICES.get(request.query_params.get("ended", ""))
    return _form_page(request, "sign_in.html", {"title": "Sign in", "notice": notice})


@post("/console/sign-in", include_in_schema=False, status_code=200)
@blocking
def ask_for_link(request: Request, data: Form) -> Response:
    if not _form_ok(request, data):
        return _form_page(request, "sign_in.html", {"title": "Sign in", "expired": True}, 403)
    console = console_of(request)
    address = normal_email(field(data, "email"))
    if address is None:
        context = {"title": "Sign in", "invalid": "Enter an e-mail address, like name@example.com."}
        return _form_page(request, "sign_in.html", context, 422)
    if not console.sessions.allowed(address, _client(request)):
        return _throttled(request)
    for person in console.people.memberships(address):
        console.links.send(person)
    return _form_page(request, "sign_in_sent.html", {"title": "Check your e-mail"})


@post("/console/sign-in/password", include_in_schema=False, status_code=200)
@blocking
def sign_in_with_password(request: Request, data: Form) -> Response:
    if not _form_ok(request, data):
        return _form_page(request, "sign_in.html", {"title": "Sign in", "expired": True}, 403)
    console = console_of(request)
    address = normal_email(field(data, "email")) or field(data, "email").lower()
    if not console.sessions.allowed(address, _client(request)):
        return _throttled(request)
    person = console.people.check_password(address, str(data.get("password") or ""))
    if person is None:
        context = {"title": "Sign in", "wrong": True}
        return _form_page(request, "sign_in.html", context, 401)
    token, _ = console.sessions.open(person)
    return console.sessions.set_cookie(Redirect("/console", status_code=303), token)


def _dead_link(request: Request) -> Response:
    return _form_page(
        request,
        "sign_in.html",
        {
            "title": "Sign in",
            "notice": "That sign-in link does not work any more: each link works once, "
            "for 15 minutes. Ask for a new one below.",
        },
        410,
    )


@get("/console/sign-in/{token:str}", include_in_schema=False)
@blocking
def link_page(request: Request, token: str) -> Response:
    row = console_of(request).links.mail_of(token)
    if row is None:
        return _dead_link(request)
    tenant = services_of(request).tenants.get(row.tenant_id).display_name
    context = {
        "title": "Sign in to the console",
        "email": row.recipient,
        "console_name": tenant,
        "token": token,
    }
    return _form_page(request, "sign_in_link.html", context)


@post("/console/sign-in/{token:str}", include_in_schema=False, status_code=200)
@blocking
def use_link(request: Request, token: str, data: Form) -> Response:
    if not _form_ok(request, data):
        return _form_page(request, "sign_in.html", {"title": "Sign in", "expired": True}, 403)
    console = console_of(request)
    person = console.links.redeem(token)
    if person is None:
        return _dead_link(request)
    cookie, _ = console.sessions.open(person)
    return console.sessions.set_cookie(Redirect("/console", status_code=303), cookie)


@post("/console/sign-out", include_in_schema=False, status_code=200)
@blocking
def sign_out(request: Request, data: Form) -> Response:
    session = posted(request, data, READ)
    if isinstance(session, Response):
        return session
    console = console_of(request)
    console.sessions.close(session)
    return console.sessions.clear_cookie(Redirect("/console/sign-in?ended=out", status_code=303))


@get("/console/password", include_in_schema=False)
@blocking
def password_page(request: Request) -> Response:
    session = allowed(request, READ)
    if isinstance(session, Response):
        return session
    return page(request, "password.html", {"title": "Your password"}, session)


@post("/console/password", include_in_schema=False, status_code=200)
@blocking
def set_password(request: Request, data: Form) -> Response:
    session = posted(request, data, READ)
    if isinstance(session, Response):
        return session
    password = str(data.get("password") or "")
    if password != str(data.get("again") or ""):
        context = {"title": "Your password", "error": "The two passwords differ."}
        return page(request, "password.html", context, session, status=422)
    try:
        console_of(request).people.set_password(session.person, password)
    except ValidationFailed as e:
        return page(
            request,
            "password.html",
            {"title": "Your password", "error": e.detail},
            session,
            status=422,
        )
    return page(request, "password.html", {"title": "Your password", "done": True}, session)


ROUTES = [
    sign_in_page,
    ask_for_link,
    sign_in_with_password,
    link_page,
    use_link,
    sign_out,
    password_page,
    set_password,
]

"""The owner's pages under /connect/<token>: thin handlers over ConnectionService.

The owner has no account: the token in the path is the credential (service.connect.links),
and it names exactly one connection. Every answer is a page; a POST that no longer fits
the connection's state (a double click, a stale tab) leads back to the page, which then
shows where the connection is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.response import Redirect

from domain import lifecycle as lc
from domain.connection import Connection
from domain.exceptions import DomainError, NotFound
from domain.permissions import REQUIRED_SC_PERMISSIONS
from service.api.auth import services_of
from service.api.caller import Caller
from service.api.pages import error_page, render
from service.api.threads import blocking
from service.connect import login
from service.connect.journey import (
    ROLE_LABELS,
    advertising_due,
    error_block,
    marketplace_names,
    support_block,
    view_of,
    when,
)
from service.connect.owner_session import COOKIE

TEMPLATES = Path(__file__).with_name("templates")  # they extend service.api.pages' layout
STATIC = Path(__file__).with_name("static")
REGION_NAMES = {"na": "North America", "eu": "Europe", "fe": "Far East"}
_WAITING = {"seller_central_waiting", "verified", "authorized"}


def _open(services: Any, token: str) -> Connection | None:
    connection_id = services.links.connection_id(token)
    if connection_id is None:
        return None
    try:
        return services.app.load_without_tenant_check(connection_id)  # the link is the key
    except NotFound:
        return None


def _unknown(request: Request) -> Response:
    return error_page(
        request,
        404,
        "This link does not work",
        "We could not find a connection for this link.",
        steps=[
            "Open the link straight from the e-mail, or copy all of it: it is long.",
            "If it still does not work, ask the person who invited you for a new link.",
        ],
    )


def inviter_of(c: Connection, tenant_name: str) -> str:
    who = c.invited_by or {}
    name = who.get("name") or who.get("email")
    if not name:
        return tenant_name
    role = ROLE_LABELS.get(who.get("role") or "")
    if role and role != "owner":
        return f"{name} (your {role}, using {tenant_name})"
    return f"{name} at {tenant_name}"


def page(
    request: Request,
    c: Connection,
    token: str,
    *,
    notice: str | None = None,
    missing: int | None = None,
    status: int | None = None,
) -> Response:
    services = services_of(request)
    view = view_of(c, services.settings.seller_central_user_email)
    tenant = services.tenants.get(c.tenant_id)
    ads_error = None
    if c.advertising == "failed":
        ads_error = error_block(c)
    context = {
        "title": view.title,
        "view": view,
        "tenant": tenant,
        "inviter": inviter_of(c, tenant.display_name),
        "token": token,
        "state": c.state,
        "marketplaces": marketplace_names(c),
        "region_name": REGION_NAMES.get(c.region, c.region),
        "support": support_block(c),
        "reauth_due_at": when(c.reauth_due_at),
        "advertising": advertising_due(c),
        "advertising_error": ads_error,
        "notice": notice,
        "missing": missing,
        "poll_url": f"/connect/{token}/state" if view.step in _WAITING else None,
    }
    amazon = services.amazon
    targets = (amazon.consent_url(c.region, "x"), amazon.ads_consent_url(c.region, "x"))
    return render(
        request, "connect.html", context, status=status or view.status, form_targets=targets
    )


@get("/connect/{token:str}", include_in_schema=False)
@blocking
def landing(request: Request, token: str) -> Response:
    services = services_of(request)
    c = _open(services, token)
    if c is None:
        return _unknown(request)
    # The invitation link is the owner's proof: this browser may now continue Amazon's
    # Login URI for this connection (SPEC §12, service.connect.owner_session).
    cookie, now = request.cookies.get(COOKIE), services.clock.now()
    return services.owner_sessions.grant(page(request, c, token), cookie, c.id, now)


@get("/connect/{token:str}/state", include_in_schema=False)
@blocking
def current_state(request: Request, token: str) -> Response:
    """For the waiting pages' small script: the state alone, as plain text."""
    c = _open(services_of(request), token)
    if c is None:
        return Response("unknown", status_code=404, media_type="text/plain")
    return Response(c.state, media_type="text/plain", headers={"Cache-Control": "no-store"})


def _act(request: Request, token: str, action: str) -> Response:
    services = services_of(request)
    c = _open(services, token)
    if c is None:
        return _unknown(request)
    caller = Caller(
        tenant_id=c.tenant_id, actor="owner", request_id=request.scope["state"].get("request_id")
    )
    if action == "start_authorization" and c.state == lc.REAUTH_DUE:
        action = "start_reauthorization"
    try:
        result = services.connections.act(caller, str(c.id), action, {})
    except DomainError:
        return Redirect(f"/connect/{token}", status_code=303)
    target = result.extras.get("consent_url") or f"/connect/{token}"
    return Redirect(target, status_code=303)


@post("/connect/{token:str}/authorize", include_in_schema=False)
@blocking
def authorize(request: Request, token: str) -> Response:
    """ "Continue to Amazon" and "Try again": opens a 15-minute consent attempt."""
    return _act(request, token, "start_authorization")


@post("/connect/{token:str}/advertising", include_in_schema=False)
@blocking
def advertising(request: Request, token: str) -> Response:
    return _act(request, token, "start_advertising_authorization")


@post("/connect/{token:str}/seller-central", include_in_schema=False)
async def seller_central(request: Request, token: str) -> Response:
    """The owner says the integrator's user is invited, every permission ticked."""
    form = await request.form()
    ticked = set(form.getall("done")) if hasattr(form, "getall") else set()

    def run() -> Response:
        c = _open(services_of(request), token)
        if c is None:
            return _unknown(request)
        if c.state == lc.API_AUTHORIZED:
            left = len(set(REQUIRED_SC_PERMISSIONS) - ticked)
            if left:
                return page(request, c, token, missing=left, status=422)
        return _act(request, token, "invite_seller_central_user")

    return await anyio.to_thread.run_sync(run)


ROUTES = [landing, current_state, authorize, advertising, seller_central, *login.ROUTES]

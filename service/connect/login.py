"""Amazon's Login URI (SPEC §7): where Amazon sends a seller who chose "Authorize now" in
the Selling Partner Appstore or "Re-authorize" in Manage Your Apps.

Amazon calls `GET /v1/oauth/amazon/login?amazon_callback_uri=…&amazon_state=…&selling_partner_id=…`
(and `version=beta` for a draft app); the app answers by sending the browser to
`amazon_callback_uri` with `redirect_uri`, `amazon_state` and its own `state`; Amazon then
redirects to the redirect URI as in the website workflow. Source: Amazon's "Selling Partner
Appstore authorization workflow",
https://developer-docs.amazon.com/sp-api/docs/selling-partner-appstore-authorization-workflow

`selling_partner_id` there is anyone's to type (seller ids are public), and a tenant may
have claimed another tenant's seller by import, so it picks no connection by itself (SPEC
§12): the browser must hold the owner's session (service.connect.owner_session) for a
connection that holds the seller, `active` or `reauth_due`. Without one it gets one neutral
page, built from Amazon's request alone, the same bytes for zero, one or many matches,
whose button mails a one-time continue link (service.connect.continue_links) to each
matching connection's owner address on file; that link gives the session and continues.

Nothing is recorded here: the signed `state` carries the connection, its version and the
claimed selling partner, and the callback records the re-authorization only when Amazon's
`selling_partner_id` matches (service.connect.oauth).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect

from domain import lifecycle as lc
from domain.connection import Connection
from domain.exceptions import NotFound, ValidationFailed
from service.api.edge.text import SELLING_PARTNER_ID_PATTERN
from service.api.pages import error_page, render
from service.api.threads import blocking
from service.connect.continue_links import LIFETIME, PATH
from service.connect.owner_session import COOKIE

# Seller Central and Vendor Central hosts of every marketplace Amazon lists.
_AMAZON_HOST = re.compile(
    r"(sellercentral|sellercentral-europe|vendorcentral)\.amazon\."
    r"(com|ca|com\.mx|com\.br|co\.uk|de|fr|it|es|nl|se|pl|com\.be|ie|com\.tr|ae|sa|eg|in"
    r"|co\.za|co\.jp|com\.au|sg|com\.sg|me)"  # .me: Vendor Central of EG, AE, SA
)
_ID = re.compile(SELLING_PARTNER_ID_PATTERN)


def callback_allowed(url: str, settings: Any) -> bool:
    """Only to Amazon's own hosts over https, or (sandbox) to the sandbox's confirm step."""
    if not url.isascii():  # Amazon's URLs are ASCII; urlsplit refuses some others (U+FF0F)
        return False
    parts = urlsplit(url)
    if parts.username or parts.password or "\\" in url:
        return False
    if (
        parts.scheme == "https"
        and parts.port is None
        and _AMAZON_HOST.fullmatch(parts.hostname or "")
    ):
        return True
    if settings.sandbox:
        base = f"{settings.public_base_url}/sandbox/amazon/"
        return re.fullmatch(rf"{re.escape(base)}(na|eu|fe)/apps/authorize/confirm", url) is not None
    return False


def _matching(services: Any, selling_partner_id: str) -> list[Connection]:
    """Every connection, whichever tenant's, that holds the seller and may be renewed."""
    found = []
    for connection_id in services.connections.fresh_view().holding(selling_partner_id):
        try:
            c = services.app.load_without_tenant_check(connection_id)
        except NotFound:
            continue
        if c.state in lc.RENEWABLE_STATES and c.selling_partner_id == selling_partner_id:
            found.append(c)
    return found


def _checked(settings: Any, amazon: dict[str, str]) -> dict[str, str]:
    """Amazon's request, refused (422, naming no connection) unless it can be Amazon's."""
    if not callback_allowed(amazon["amazon_callback_uri"], settings) or not amazon["amazon_state"]:
        raise ValidationFailed(
            "This link does not come from Amazon's Seller Central: amazon_callback_uri must "
            "be Amazon's own confirm page. Start again from Manage Your Apps in Seller Central.",
            field="amazon_callback_uri",
        )
    if not _ID.fullmatch(amazon["selling_partner_id"]) or len(amazon["amazon_state"]) > 2048:
        raise ValidationFailed(
            "Amazon's link carried no valid seller account (selling_partner_id). Start again "
            "from Manage Your Apps in Seller Central.",
            field="selling_partner_id",
        )
    return amazon


def _request(
    amazon_callback_uri: Any, amazon_state: Any, selling_partner_id: Any, version: Any
) -> dict[str, str]:
    return {
        "amazon_callback_uri": str(amazon_callback_uri or ""),
        "amazon_state": str(amazon_state or ""),
        "selling_partner_id": str(selling_partner_id or ""),
        "version": "beta" if version == "beta" else "",
    }


def _to_amazon(services: Any, c: Connection, amazon: dict[str, str]) -> Response:
    """Amazon's confirm step with a signed state naming the connection at its version."""
    settings = services.settings
    expires_at = services.clock.now() + services.connections.durations.authorization_window
    state = services.callbacks.consent.login_state(c, amazon["selling_partner_id"], expires_at)
    params = {
        "redirect_uri": f"{settings.public_base_url}/v1/oauth/amazon/callback",
        "amazon_state": amazon["amazon_state"],
        "state": state,
    }
    if amazon["version"] == "beta" or settings.spapi_draft_app:
        params["version"] = "beta"
    callback = amazon["amazon_callback_uri"]
    separator = "&" if "?" in callback else "?"
    return Redirect(f"{callback}{separator}{urlencode(params)}", status_code=302)


def _neutral(request: Request, amazon: dict[str, str], *, asked: bool) -> Response:
    """The one page a browser without the owner's proof gets: the same bytes and status
    whether no, one or many connections hold the seller (it is built from Amazon's
    request alone)."""
    title = "Check your e-mail" if asked else "Confirm it is you"
    return render(
        request, "login.html", {"title": title, "asked": asked, "amazon": amazon, "tenant": None}
    )


@get(
    "/v1/oauth/amazon/login",
    operation_id="amazonLogin",
    tags=["oauth"],
    summary="Amazon's Login URI (Appstore 'Authorize now', Manage Your Apps 'Re-authorize')",
    description=(
        "Public; records nothing. A browser endpoint: with the owner's session for a "
        "connection holding the seller (opened by its invitation link), the redirect to "
        "amazon_callback_uri; otherwise one neutral page, the same whether any connection "
        "holds the seller or not."
    ),
    security=[],
    media_type="text/html",
    responses={
        302: ResponseSpec(None, description="Continues to amazon_callback_uri (Amazon's own)"),
    },
)
@blocking
def amazon_login(
    request: Request,
    amazon_callback_uri: str = "",
    amazon_state: str = "",
    selling_partner_id: str = "",
    version: str | None = None,
) -> Response:
    services = request.app.state.services
    amazon = _checked(
        services.settings,
        _request(amazon_callback_uri, amazon_state, selling_partner_id, version),
    )
    sessions = services.owner_sessions
    held = sessions.held(request.cookies.get(COOKIE), services.clock.now())
    if held:
        found = {sessions.tag(c.id): c for c in _matching(services, amazon["selling_partner_id"])}
        for tag in held:  # the most recently opened connection first
            if tag in found:
                return _to_amazon(services, found[tag], amazon)
    return _neutral(request, amazon, asked=False)


@post(
    "/v1/oauth/amazon/login",
    operation_id="amazonLoginMailLink",
    tags=["oauth"],
    summary="The Login URI's neutral page: e-mail a one-time continue link to the owners",
    description=(
        "Public; a form post from the Login URI's page. Queues, for each connection holding "
        "the seller, a one-time continue link to its owner address on file (at most one per "
        "connection per 10 minutes). The answer is the same page whatever matched."
    ),
    security=[],
    media_type="text/html",
    status_code=200,
    opt={"problems": {422}},  # a form that is not Amazon's request (read by hand, not typed)
)
async def amazon_login_mail_link(request: Request) -> Response:
    form = await request.form()

    def run() -> Response:
        services = request.app.state.services
        amazon = _checked(
            services.settings,
            _request(
                form.get("amazon_callback_uri"),
                form.get("amazon_state"),
                form.get("selling_partner_id"),
                form.get("version"),
            ),
        )
        sealed = services.continue_links.seal(amazon)
        for c in _matching(services, amazon["selling_partner_id"]):
            services.mail.outbox.login_link(c, sealed)
        return _neutral(request, amazon, asked=True)

    return await anyio.to_thread.run_sync(run)


@get(f"{PATH}{{token:str}}", include_in_schema=False)
@blocking
def continue_login(request: Request, token: str) -> Response:
    """The e-mailed link: once, within its hour, it gives this browser the owner's session
    for its connection and continues to Amazon's confirm step."""
    services = request.app.state.services
    links, now = services.continue_links, services.clock.now()
    mail_id = links.mail_id(token)
    row = services.mail.tables.get(mail_id) if mail_id else None
    amazon = None
    if row is not None and row.kind == "login_link":
        sent = datetime.fromisoformat(str(row.created_at))
        if now - sent < LIFETIME and links.spend(row.id, now):
            amazon = links.unseal(json.loads(row.facts).get("request") or "")
    c = None
    if amazon is not None:
        try:
            c = services.app.load_without_tenant_check(row.connection_id)
        except NotFound:
            c = None
    if (
        c is None
        or amazon is None
        or c.state not in lc.RENEWABLE_STATES
        or c.selling_partner_id != amazon.get("selling_partner_id")
        or not callback_allowed(amazon.get("amazon_callback_uri", ""), services.settings)
    ):
        return error_page(
            request,
            410,
            "This link does not work any more",
            "A continue link works once, within an hour of being sent.",
            steps=["Start again from Manage Your Apps in Seller Central: press Re-authorize."],
        )
    response = _to_amazon(services, c, amazon)
    return services.owner_sessions.grant(response, request.cookies.get(COOKIE), c.id, now)


ROUTES = [amazon_login, amazon_login_mail_link, continue_login]

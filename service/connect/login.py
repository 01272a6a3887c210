"""Amazon's Login URI (SPEC §7): where Amazon sends a seller who chose "Authorize now" in
the Selling Partner Appstore or "Re-authorize" in Manage Your Apps.

Amazon calls `GET /v1/oauth/amazon/login?amazon_callback_uri=…&amazon_state=…&selling_partner_id=…`
(and `version=beta` for a draft app); the app answers by sending the browser to
`amazon_callback_uri` with `redirect_uri`, `amazon_state` and its own `state`; Amazon then
redirects to the redirect URI as in the website workflow. Source: Amazon's "Selling Partner
Appstore authorization workflow",
https://developer-docs.amazon.com/sp-api/docs/selling-partner-appstore-authorization-workflow

Nothing is recorded here: `selling_partner_id` is only a claim until Amazon's own redirect
confirms it, so the signed `state` carries the connection, its version and the claimed
selling partner, and the callback records the re-authorization only when Amazon's
`selling_partner_id` matches (service.connect.oauth).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.response import Redirect

from domain import lifecycle as lc
from domain.exceptions import NotFound, ValidationFailed
from service.api.edge.text import SELLING_PARTNER_ID_PATTERN
from service.api.pages import render, wants_html
from service.api.threads import blocking
from service.connect.journey import marketplace_names, when

# Seller Central and Vendor Central hosts of every marketplace Amazon lists.
_AMAZON_HOST = re.compile(
    r"(sellercentral|sellercentral-europe|vendorcentral)\.amazon\."
    r"(com|ca|com\.mx|com\.br|co\.uk|de|fr|it|es|nl|se|pl|com\.be|ie|com\.tr|ae|sa|eg|in"
    r"|co\.za|co\.jp|com\.au|sg)"
)
_ID = re.compile(SELLING_PARTNER_ID_PATTERN)


def callback_allowed(url: str, settings: Any) -> bool:
    """Only to Amazon's own hosts over https, or (sandbox) to the sandbox's confirm step."""
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


def _candidates(services: Any, selling_partner_id: str) -> list[Any]:
    """Every live connection holding that selling partner, whichever tenant's."""
    found = []
    for connection_id in services.connections.fresh_view().holding(selling_partner_id):
        try:
            found.append(services.app.load_without_tenant_check(connection_id))
        except NotFound:
            continue
    return found


@get(
    "/v1/oauth/amazon/login",
    operation_id="amazonLogin",
    tags=["oauth"],
    summary="Amazon's Login URI (Appstore 'Authorize now', Manage Your Apps 'Re-authorize')",
    description=(
        "Public; records nothing. A browser endpoint: every answer is a page (text/html) or "
        "the redirect to amazon_callback_uri."
    ),
    security=[],
    media_type="text/html",
    responses={
        302: ResponseSpec(None, description="Continues to amazon_callback_uri (Amazon's own)"),
        404: ResponseSpec(None, description="No connection holds this selling partner (a page)"),
    },
)
@blocking
def amazon_login(
    request: Request,
    amazon_callback_uri: str = "",
    amazon_state: str = "",
    selling_partner_id: str = "",
    version: str | None = None,
    connection_id: str | None = Parameter(default=None, description="the chooser's pick"),
) -> Response:
    services = request.app.state.services
    settings = services.settings
    if not callback_allowed(amazon_callback_uri, settings) or not amazon_state:
        raise ValidationFailed(
            "This link does not come from Amazon's Seller Central: amazon_callback_uri must "
            "be Amazon's own confirm page. Start again from Manage Your Apps in Seller Central.",
            field="amazon_callback_uri",
        )
    if not _ID.fullmatch(selling_partner_id) or len(amazon_state) > 2048:
        raise ValidationFailed(
            "Amazon's link carried no valid seller account (selling_partner_id). Start again "
            "from Manage Your Apps in Seller Central.",
            field="selling_partner_id",
        )
    found = _candidates(services, selling_partner_id)
    if connection_id is not None:
        found = [c for c in found if str(c.id) == connection_id]
    if not found and not wants_html(request):
        raise NotFound("No connection holds this selling partner.")
    if not found:
        return render(
            request,
            "login.html",
            {"title": "No connection for this Amazon account", "step": "none", "tenant": None},
            status=404,
        )
    if len(found) > 1:
        choices = [
            {
                "tenant": services.tenants.get(c.tenant_id).display_name,
                "marketplaces": ", ".join(marketplace_names(c)),
                "href": "/v1/oauth/amazon/login?"
                + urlencode(
                    {
                        "amazon_callback_uri": amazon_callback_uri,
                        "amazon_state": amazon_state,
                        "selling_partner_id": selling_partner_id,
                        **({"version": version} if version else {}),
                        "connection_id": str(c.id),
                    }
                ),
            }
            for c in found
        ]
        return render(
            request,
            "login.html",
            {"title": "Which connection?", "step": "choose", "choices": choices, "tenant": None},
        )
    c = found[0]
    tenant = services.tenants.get(c.tenant_id)
    if c.state != lc.REAUTH_DUE:
        return render(
            request,
            "login.html",
            {
                "title": "Already connected",
                "step": "connected",
                "tenant": tenant,
                "state": c.state,
                "reauth_due_at": when(c.reauth_due_at),
            },
        )
    expires_at = services.clock.now() + services.connections.durations.authorization_window
    state = services.callbacks.consent.login_state(c, selling_partner_id, expires_at)
    params = {
        "redirect_uri": f"{settings.public_base_url}/v1/oauth/amazon/callback",
        "amazon_state": amazon_state,
        "state": state,
    }
    if version == "beta" or settings.spapi_draft_app:
        params["version"] = "beta"
    separator = "&" if "?" in amazon_callback_uri else "?"
    return Redirect(f"{amazon_callback_uri}{separator}{urlencode(params)}", status_code=302)


ROUTES = [amazon_login]

"""Amazon's side of the Login URI flow: Manage Your Apps (and the Appstore's detail page),
whose "Re-authorize" / "Authorize now" sends the signed-in seller to the app's Login URI,
and the confirm step `/{region}/apps/authorize/confirm` the app sends them back to, which
redirects to the app's redirect URI as the consent page does.

`amazon_state` carries the seller who is signed in on this sandbox Amazon, so the
selling_partner_id on the redirect is Amazon's word, whatever the Login URI was told.
"""

from __future__ import annotations

import html
import secrets
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, QueryParameter

from service.sandbox.issued import Grant, is_id, mint
from service.sandbox.outcomes import REDIRECT_ERRORS, SP_OUTCOMES
from service.sandbox.pages import consent_problem, page, picker, redirect, unregistered


def _amazon_state(selling_partner_id: str) -> str:
    return f"sbxlogin.{selling_partner_id}.{secrets.token_urlsafe(16)}"


def _signed_in(amazon_state: str) -> str | None:
    parts = amazon_state.split(".")
    if len(parts) != 3 or parts[0] != "sbxlogin" or not is_id(parts[1]):
        return None
    return parts[1]


def login_routes(
    default_redirect_uri: str, login_uri: str, base_url: str
) -> list[HTTPRouteHandler]:
    @get("/{region:str}/apps/manage", sync_to_thread=False)
    def manage_your_apps(
        region: FromPath[str], selling_partner_id: FromQuery[str]
    ) -> Response[Any]:
        """Manage Your Apps for the seller signed in as `selling_partner_id`."""
        problem = consent_problem(region, None, SP_OUTCOMES, selling_partner_id, login_uri)
        if problem is not None:
            return problem
        href = f"{login_uri}?" + urlencode(
            {
                "amazon_callback_uri": f"{base_url}/sandbox/amazon/{region}/apps/authorize/confirm",
                "amazon_state": _amazon_state(selling_partner_id),
                "selling_partner_id": selling_partner_id,
            }
        )
        body = (
            f"<p>Signed in as selling partner {html.escape(selling_partner_id)}.</p>"
            "<ul><li>Sandbox app — "
            f'<a href="{html.escape(href)}">Re-authorize</a> (also what the Appstore\'s '
            "Authorize now does)</li></ul>"
        )
        return page("Manage Your Apps (sandbox Seller Central)", body)

    @get("/{region:str}/apps/authorize/confirm", sync_to_thread=False)
    def confirm(
        request: Request,
        region: FromPath[str],
        redirect_uri: FromQuery[str],
        amazon_state: FromQuery[str],
        oauth_state: Annotated[str, QueryParameter(name="state")],
        sandbox_outcome: FromQuery[str | None] = None,
    ) -> Response[Any]:
        problem = unregistered(redirect_uri, default_redirect_uri) or consent_problem(
            region, sandbox_outcome, SP_OUTCOMES, None, redirect_uri
        )
        if problem is not None:
            return problem
        partner = _signed_in(amazon_state)
        if partner is None:
            return page("Session expired", "<p>Start again from Manage Your Apps.</p>", 400)
        if sandbox_outcome is None:
            return picker(request, "Confirm the sandbox app (Seller Central)", SP_OUTCOMES)
        if sandbox_outcome in REDIRECT_ERRORS:
            error, description = REDIRECT_ERRORS[sandbox_outcome]
            return redirect(
                redirect_uri,
                {"state": oauth_state, "error": error, "error_description": description},
            )
        return redirect(
            redirect_uri,
            {
                "state": oauth_state,
                "selling_partner_id": partner,
                "mws_auth_token": f"amzn.mws.{uuid.uuid4()}",
                "spapi_oauth_code": mint("", Grant(sandbox_outcome, partner)),
            },
        )

    return [manage_your_apps, confirm]

"""The consent pages: Seller Central's (SP-API) and Amazon's LWA consent for the Ads API."""

from __future__ import annotations

import html
import uuid
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, QueryParameter

from adapters.amazon.consent import ADS_SCOPE
from adapters.amazon.settings import SANDBOX_APPLICATION_ID, SANDBOX_LWA_CLIENT_ID
from service.sandbox.issued import Grant, mint, selling_partner_id_for
from service.sandbox.outcomes import ADS_OUTCOMES, REDIRECT_ERRORS, SP_OUTCOMES, STOPPED_ON_AMAZON
from service.sandbox.pages import (
    central_of,
    consent_problem,
    page,
    picker,
    redirect,
    unregistered,
)


def consent_routes(
    default_redirect_uri: str, default_ads_redirect_uri: str
) -> list[HTTPRouteHandler]:
    """Redirects go to these URIs unless the consent URL names one."""

    # Seller Central (or Vendor Central) of the marketplace: /sandbox/amazon/<host>/apps/...,
    # e.g. sellercentral.amazon.com.mx or vendorcentral.amazon.de; a bare region still works.
    @get("/{where:str}/apps/authorize/consent", sync_to_thread=False)
    def sp_consent(
        request: Request,
        where: FromPath[str],
        application_id: FromQuery[str],
        oauth_state: Annotated[str, QueryParameter(name="state")],
        redirect_uri: FromQuery[str | None] = None,
        sandbox_outcome: FromQuery[str | None] = None,
        sandbox_selling_partner_id: FromQuery[str | None] = None,
    ) -> Response[Any]:
        target = redirect_uri or default_redirect_uri
        central = central_of(where)
        problem = unregistered(target, default_redirect_uri) or consent_problem(
            central.region if central else where,
            sandbox_outcome,
            SP_OUTCOMES,
            sandbox_selling_partner_id,
            target,
        )
        if problem is not None or central is None:
            return problem or page("Unknown Seller Central", "<p>Unknown host.</p>", 404)
        if application_id != SANDBOX_APPLICATION_ID:
            return page("Unknown application", "<p>This application_id is unknown.</p>", 400)
        portal = "Vendor Central" if central.account_type == "vendor" else "Seller Central"
        if sandbox_outcome is None:
            return picker(
                request, f"Authorize the sandbox app ({portal}, {central.host})", SP_OUTCOMES
            )
        if sandbox_outcome in STOPPED_ON_AMAZON:
            # Amazon's own page: no link back, the owner's browser stays here.
            title, text = STOPPED_ON_AMAZON[sandbox_outcome]
            return page(title, f"<p>{html.escape(text)}</p><p>{portal}</p>", 403)
        if sandbox_outcome in REDIRECT_ERRORS:
            error, description = REDIRECT_ERRORS[sandbox_outcome]
            return redirect(
                target, {"state": oauth_state, "error": error, "error_description": description}
            )
        partner = sandbox_selling_partner_id or selling_partner_id_for(oauth_state)
        params = {"state": oauth_state, "selling_partner_id": partner}
        if central.account_type == "seller":
            # "The mws_auth_token parameter is only passed ... For seller applications only."
            params["mws_auth_token"] = f"amzn.mws.{uuid.uuid4()}"
        params["spapi_oauth_code"] = mint("", Grant(sandbox_outcome, partner))
        return redirect(target, params)

    @get("/ads/{region:str}/ap/oa", sync_to_thread=False)
    def ads_consent(
        request: Request,
        region: FromPath[str],
        client_id: FromQuery[str],
        response_type: FromQuery[str],
        oauth_scope: Annotated[str, QueryParameter(name="scope")],
        oauth_state: Annotated[str, QueryParameter(name="state")] = "",
        redirect_uri: FromQuery[str | None] = None,
        sandbox_outcome: FromQuery[str | None] = None,
        sandbox_selling_partner_id: FromQuery[str | None] = None,
    ) -> Response[Any]:
        target = redirect_uri or default_ads_redirect_uri
        problem = unregistered(target, default_ads_redirect_uri) or consent_problem(
            region, sandbox_outcome, ADS_OUTCOMES, sandbox_selling_partner_id, target
        )
        if problem is not None:
            return problem
        if client_id != SANDBOX_LWA_CLIENT_ID:
            return page("Unknown client", "<p>This client_id is not registered.</p>", 400)
        if response_type != "code":
            return redirect(target, {"state": oauth_state, "error": "unsupported_response_type"})
        if oauth_scope != ADS_SCOPE:
            return redirect(target, {"state": oauth_state, "error": "invalid_scope"})
        if sandbox_outcome is None:
            return picker(request, "Authorize the sandbox app (Amazon Ads)", ADS_OUTCOMES)
        if sandbox_outcome in REDIRECT_ERRORS:
            error, description = REDIRECT_ERRORS[sandbox_outcome]
            return redirect(
                target, {"state": oauth_state, "error": error, "error_description": description}
            )
        partner = sandbox_selling_partner_id or selling_partner_id_for(oauth_state)
        code = mint("", Grant(sandbox_outcome, partner))
        return redirect(target, {"code": code, "scope": ADS_SCOPE, "state": oauth_state})

    return [sp_consent, ads_consent]

"""Amazon's redirects back to us. Public: the signed, single-use `state` authenticates."""

from typing import Any

from litestar import Request, Response, get
from litestar.params import Parameter
from litestar.response import Redirect

from service.api.threads import blocking
from service.connect.oauth import CallbackResult

TAGS = ["oauth"]


def _finish(request: Request, result: CallbackResult) -> Response:
    target = result.redirect_url()
    if target:
        return Redirect(target, status_code=303)
    c = result.connection
    if "application/json" in request.headers.get("accept", ""):
        return Response(
            {
                "connection_id": str(c.id),
                "state": c.state,
                "succeeded": result.succeeded,
                "error": result.error,
            }
        )
    # A person: back to their page, which shows the outcome, the remediation and "Try again".
    links = request.app.state.services.links
    return Redirect(f"/connect/{links.token(c.id)}", status_code=303)


@get(
    "/v1/oauth/amazon/callback",
    operation_id="amazonCallback",
    tags=TAGS,
    summary="Amazon SP-API consent redirect",
)
@blocking
def amazon_callback(
    request: Request,
    oauth_state: str = Parameter(query="state", default=""),
    selling_partner_id: str | None = None,
    spapi_oauth_code: str | None = None,
    mws_auth_token: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    params: dict[str, Any] = {
        "state": oauth_state,
        "selling_partner_id": selling_partner_id,
        "spapi_oauth_code": spapi_oauth_code,
        "error": error,
        "error_description": error_description,
    }
    result = request.app.state.services.callbacks.spapi(
        params, request.scope["state"].get("request_id")
    )
    return _finish(request, result)


@get(
    "/v1/oauth/amazon-ads/callback",
    operation_id="amazonAdsCallback",
    tags=TAGS,
    summary="Amazon Ads consent redirect",
)
@blocking
def amazon_ads_callback(
    request: Request,
    oauth_state: str = Parameter(query="state", default=""),
    code: str | None = None,
    scope: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    params: dict[str, Any] = {
        "state": oauth_state,
        "code": code,
        "error": error,
        "error_description": error_description,
    }
    result = request.app.state.services.callbacks.ads(
        params, request.scope["state"].get("request_id")
    )
    return _finish(request, result)


ROUTES = [amazon_callback, amazon_ads_callback]

"""Amazon's redirects back to us. Public: the signed, single-use `state` authenticates."""

from html import escape
from typing import Any

from litestar import Request, Response, get
from litestar.params import Parameter
from litestar.response import Redirect

from domain.errors import entry
from service.api.threads import blocking
from service.oauth import CallbackResult

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
    if result.succeeded:
        title, lines = "Connected", ["Amazon access is confirmed. You can close this window."]
    else:
        item = entry(result.error["code"] if result.error else "INTERNAL_ERROR")
        title, lines = item.title, [item.message, *item.remediation]
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    page = (
        f"<!doctype html><meta charset=utf-8><title>{escape(title)}</title>"
        f"<h1>{escape(title)}</h1><ul>{items}</ul>"
        f"<p><small>Connection {c.id}</small></p>"
    )
    return Response(page, media_type="text/html; charset=utf-8")


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

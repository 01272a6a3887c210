"""Login with Amazon's token endpoint: code exchange and refresh."""

from __future__ import annotations

import functools
from typing import Any

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from adapters.amazon.settings import REGIONS, SANDBOX_LWA_CLIENT_ID, SANDBOX_LWA_CLIENT_SECRET
from service.sandbox.grants import Levers
from service.sandbox.issued import FirstTime, mint, read
from service.sandbox.threads import in_sandbox_thread


def _lwa_error(status: int, error: str, description: str) -> Response[Any]:
    return Response(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"cache-control": "no-store"},
    )


def token_answer(
    form: dict[str, str], levers: Levers, first_time: FirstTime | None = None
) -> Response[Any]:
    if (form.get("client_id"), form.get("client_secret")) != (
        SANDBOX_LWA_CLIENT_ID,
        SANDBOX_LWA_CLIENT_SECRET,
    ):
        return _lwa_error(401, "invalid_client", "Client authentication failed")
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        grant = read(form.get("code"), "")
        parameter = "code"
    elif grant_type == "refresh_token":
        grant = read(form.get("refresh_token"), "Atzr|")
        parameter = "refresh_token"
    else:
        return _lwa_error(400, "unsupported_grant_type", "The grant type is not supported")
    if grant is None:
        return _lwa_error(
            400, "invalid_grant", f"The request has an invalid grant parameter : {parameter}"
        )
    if parameter == "refresh_token" and levers.is_revoked(grant.selling_partner_id):
        return _lwa_error(400, "invalid_grant", "The refresh token is invalid or was revoked")
    if grant.outcome == "throttled_once" and first_time and first_time(form.get(parameter, "")):
        response = _lwa_error(429, "TooManyRequests", "Rate exceeded")
        response.headers["retry-after"] = "3600"
        return response
    if parameter == "code" and grant.outcome == "malformed_token_answer":
        return Response({"token": "not what LWA answers"}, status_code=200)
    if grant.outcome == "APP_CREDENTIALS_INVALID":
        # What LWA answers once the app's client secret has expired (rotation missed).
        return _lwa_error(401, "invalid_client", "Client authentication failed")
    if grant.outcome == "AMAZON_UNAVAILABLE":
        return _lwa_error(503, "temporarily_unavailable", "The service is temporarily overloaded")
    if parameter == "code" and grant.outcome == "AUTHORIZATION_EXPIRED":
        return _lwa_error(400, "invalid_grant", "The authorization code has expired or was used")
    if parameter == "code" and grant.outcome == "TOKEN_EXCHANGE_FAILED":
        return _lwa_error(
            400, "invalid_request", "The request has an invalid parameter : redirect_uri"
        )
    if parameter == "refresh_token" and grant.outcome == "ACCESS_REVOKED":
        return _lwa_error(400, "invalid_grant", "The refresh token is invalid or was revoked")
    if parameter == "refresh_token":
        refresh_token = form["refresh_token"]
    else:
        refresh_token = mint("Atzr|", grant)
    return Response(
        {
            "access_token": mint("Atza|", grant),
            "refresh_token": refresh_token,
            "token_type": "bearer",
            "expires_in": 3600,
        },
        status_code=200,
        headers={"cache-control": "no-store"},
    )


def lwa_routes(levers: Levers) -> list[HTTPRouteHandler]:
    first_time = FirstTime()

    @post("/auth/o2/token")
    async def token(request: Request) -> Response[Any]:
        form = await request.form()
        fields = {key: str(value) for key, value in form.items()}
        return await in_sandbox_thread(
            request, functools.partial(token_answer, fields, levers, first_time)
        )

    # The Ads API's regional LWA hosts (api.amazon.co.uk, api.amazon.co.jp, api.amazon.com).
    @post("/ads/{region:str}/auth/o2/token")
    async def ads_token(request: Request, region: FromPath[str]) -> Response[Any]:
        if region not in REGIONS:
            return _lwa_error(404, "invalid_request", "Unknown token host")
        form = await request.form()
        fields = {key: str(value) for key, value in form.items()}
        return await in_sandbox_thread(
            request, functools.partial(token_answer, fields, levers, first_time)
        )

    return [token, ads_token]

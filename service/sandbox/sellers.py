"""The Sellers API: marketplace participations and the account."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from adapters.amazon.settings import REGIONS
from service.sandbox.grants import is_revoked
from service.sandbox.issued import FirstTime, Grant, read
from service.sandbox.marketplaces import ELSEWHERE, MARKETPLACES

# The sandbox's usage plan, announced as Amazon does on 20x, 400 and 404 answers ("all
# sandbox operations share the same rate", Usage Plans and Rate Limits in the SP-API).
SANDBOX_RATE_LIMIT = "5.0"


def sp_answer(status: int, body: dict[str, Any]) -> Response[Any]:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if status < 300 or status in (400, 404):
        headers["x-amzn-RateLimit-Limit"] = SANDBOX_RATE_LIMIT
    return Response(body, status_code=status, headers=headers)


def sp_grant(region: str, token: str | None) -> Grant | Response[Any]:
    """The grant behind an SP-API access token, or Amazon's refusal."""
    if region not in REGIONS:
        error = {"code": "NotFound", "message": "Resource not found."}
        return sp_answer(404, {"errors": [error]})
    grant = read(token, "Atza|")
    if grant is None or is_revoked(grant.selling_partner_id):
        error = {
            "code": "Unauthorized",
            "message": "Access to requested resource is denied.",
            "details": "The access token you provided is revoked, malformed or invalid.",
        }
        return sp_answer(403, {"errors": [error]})
    return grant


def _marketplace(entry: tuple[str, str, str, str, str]) -> dict[str, str]:
    marketplace_id, country, currency, language, domain = entry
    return {
        "id": marketplace_id,
        "name": "Amazon" + domain.removeprefix("www.amazon"),
        "countryCode": country,
        "defaultCurrencyCode": currency,
        "defaultLanguageCode": language,
        "domainName": domain,
    }


def _participations(region: str, outcome: str) -> list[dict[str, Any]]:
    if outcome == "MARKETPLACE_NOT_PARTICIPATING":
        marketplaces = MARKETPLACES[ELSEWHERE[region]][:1]
    else:
        marketplaces = MARKETPLACES[region]
    participating, suspended = {
        "ACCOUNT_DEACTIVATED": (False, True),
        "ACCOUNT_UNDER_REVIEW": (False, False),
        "ACCOUNT_IN_STAGING": (True, True),
    }.get(outcome, (True, False))
    return [
        {
            "marketplace": _marketplace(entry),
            "participation": {"isParticipating": participating, "hasSuspendedListings": suspended},
        }
        for entry in marketplaces
    ]


def _account(region: str, grant: Grant) -> dict[str, Any]:
    participations = _participations(region, grant.outcome)
    country = participations[0]["marketplace"]["countryCode"]
    address = {"addressLine1": "1 Sandbox Way", "city": "Sandbox City", "countryCode": country}
    account: dict[str, Any] = {
        "marketplaceParticipationList": [
            {**entry, "storeName": f"Sandbox Store {grant.selling_partner_id}"}
            for entry in participations
        ],
        "businessType": "PRIVATE_LIMITED",
        "sellingPlan": (
            "INDIVIDUAL" if grant.outcome == "NOT_PROFESSIONAL_ACCOUNT" else "PROFESSIONAL"
        ),
        "primaryContact": {"name": "Sandbox Owner", "address": address},
    }
    if grant.outcome != "ACCOUNT_SETUP_INCOMPLETE":
        account["business"] = {
            "name": "Sandbox Trading Ltd",
            "registeredBusinessAddress": address,
        }
    return account


def throttled(grant: Grant, token: str, first_time: FirstTime) -> Response[Any] | None:
    """Amazon's 429; the sandbox announces its rate on it too (SPEC §7)."""
    if grant.outcome != "throttled_once" or not first_time(token):
        return None
    error = {
        "code": "QuotaExceeded",
        "message": "You exceeded your quota for the requested resource.",
    }
    response = sp_answer(429, {"errors": [error]})
    response.headers["x-amzn-RateLimit-Limit"] = SANDBOX_RATE_LIMIT
    return response


def sellers_routes() -> list[HTTPRouteHandler]:
    first_time = FirstTime()

    @get("/{region:str}/sellers/v1/marketplaceParticipations", sync_to_thread=False)
    def marketplace_participations(request: Request, region: FromPath[str]) -> Response[Any]:
        token = request.headers.get("x-amz-access-token") or ""
        grant = sp_grant(region, token)
        if isinstance(grant, Response):
            return grant
        return throttled(grant, token, first_time) or sp_answer(
            200, {"payload": _participations(region, grant.outcome)}
        )

    @get("/{region:str}/sellers/v1/account", sync_to_thread=False)
    def account(request: Request, region: FromPath[str]) -> Response[Any]:
        grant = sp_grant(region, request.headers.get("x-amz-access-token"))
        if isinstance(grant, Response):
            return grant
        return sp_answer(200, {"payload": _account(region, grant)})

    return [marketplace_participations, account]

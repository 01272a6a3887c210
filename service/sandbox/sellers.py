"""The Sellers API: marketplace participations and the account."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from adapters.amazon.settings import REGIONS
from domain import marketplaces
from domain.marketplaces import Marketplace
from service.sandbox.grants import Levers
from service.sandbox.issued import FirstTime, Grant, read
from service.sandbox.threads import off_the_shared_pool

# An account of another region, for MARKETPLACE_NOT_PARTICIPATING.
_ELSEWHERE = {"na": "eu", "eu": "na", "fe": "na"}
# Where Amazon serves getAccount (adapters.amazon.sellers cites the source).
_GET_ACCOUNT_REGIONS = ("eu",)

# The sandbox's usage plan, announced as Amazon does on 20x, 400 and 404 answers ("all
# sandbox operations share the same rate", Usage Plans and Rate Limits in the SP-API).
SANDBOX_RATE_LIMIT = "5.0"


def sp_answer(status: int, body: dict[str, Any]) -> Response[Any]:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if status < 300 or status in (400, 404):
        headers["x-amzn-RateLimit-Limit"] = SANDBOX_RATE_LIMIT
    return Response(body, status_code=status, headers=headers)


def sp_grant(region: str, token: str | None, levers: Levers) -> Grant | Response[Any]:
    """The grant behind an SP-API access token, or Amazon's refusal."""
    if region not in REGIONS:
        error = {"code": "NotFound", "message": "Resource not found."}
        return sp_answer(404, {"errors": [error]})
    grant = read(token, "Atza|")
    if grant is None or levers.is_revoked(grant.selling_partner_id):
        error = {
            "code": "Unauthorized",
            "message": "Access to requested resource is denied.",
            "details": "The access token you provided is revoked, malformed or invalid.",
        }
        return sp_answer(403, {"errors": [error]})
    return grant


def _marketplace(m: Marketplace) -> dict[str, str]:
    return {
        "id": m.id,
        "name": m.name,
        "countryCode": m.country_code,
        "defaultCurrencyCode": m.currency,
        "defaultLanguageCode": m.language,
        "domainName": m.domain,
    }


def _participations(region: str, grant: Grant) -> list[dict[str, Any]]:
    outcome = grant.outcome
    if outcome == "MARKETPLACE_NOT_PARTICIPATING":
        selling_in = marketplaces.in_region(_ELSEWHERE[region])[:1]
    else:
        selling_in = marketplaces.in_region(region)
    participating, suspended = {
        "ACCOUNT_DEACTIVATED": (False, True),
        "ACCOUNT_UNDER_REVIEW": (False, False),
        "ACCOUNT_IN_STAGING": (True, True),
    }.get(outcome, (True, False))
    # storeName is required by Amazon's schema (MarketplaceParticipation in sellers.json).
    return [
        {
            "marketplace": _marketplace(m),
            "participation": {"isParticipating": participating, "hasSuspendedListings": suspended},
            "storeName": f"Sandbox Store {grant.selling_partner_id}",
        }
        for m in selling_in
    ]


def _account(region: str, grant: Grant) -> dict[str, Any]:
    participations = _participations(region, grant)
    country = participations[0]["marketplace"]["countryCode"]
    address = {"addressLine1": "1 Sandbox Way", "city": "Sandbox City", "countryCode": country}
    return {
        "marketplaceParticipationList": participations,
        "businessType": "PRIVATE_LIMITED",
        "sellingPlan": (
            "INDIVIDUAL" if grant.outcome == "NOT_PROFESSIONAL_ACCOUNT" else "PROFESSIONAL"
        ),
        "business": {"name": "Sandbox Trading Ltd", "registeredBusinessAddress": address},
        "primaryContact": {"name": "Sandbox Owner", "address": address},
    }


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


def sellers_routes(levers: Levers) -> list[HTTPRouteHandler]:
    first_time = FirstTime()

    @get("/{region:str}/sellers/v1/marketplaceParticipations")
    @off_the_shared_pool  # the levers are in the store
    def marketplace_participations(request: Request, region: FromPath[str]) -> Response[Any]:
        token = request.headers.get("x-amz-access-token") or ""
        grant = sp_grant(region, token, levers)
        if isinstance(grant, Response):
            return grant
        return throttled(grant, token, first_time) or sp_answer(
            200, {"payload": _participations(region, grant)}
        )

    @get("/{region:str}/sellers/v1/account")
    @off_the_shared_pool  # the levers are in the store
    def account(request: Request, region: FromPath[str]) -> Response[Any]:
        grant = sp_grant(region, request.headers.get("x-amz-access-token"), levers)
        if isinstance(grant, Response):
            return grant
        if region not in _GET_ACCOUNT_REGIONS:
            error = {"code": "Unauthorized", "message": "Access to requested resource is denied."}
            return sp_answer(403, {"errors": [error]})
        return sp_answer(200, {"payload": _account(region, grant)})

    return [marketplace_participations, account]

"""The Amazon Ads API: the advertiser's profiles."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from adapters.amazon.settings import REGIONS, SANDBOX_LWA_CLIENT_ID
from domain import marketplaces
from service.sandbox.issued import Grant, read, selling_partner_id_for


def _ads_profiles(region: str, grant: Grant) -> list[dict[str, Any]]:
    if grant.outcome == "ADVERTISING_NOT_ENABLED":
        return []
    account_id = grant.selling_partner_id
    if grant.outcome == "ADVERTISING_ACCOUNT_MISMATCH":
        account_id = selling_partner_id_for(f"another-seller-{account_id}")
    profiles = []
    for m in marketplaces.in_region(region):
        digest = hashlib.sha256(f"{account_id}:{m.id}".encode()).digest()
        profiles.append(
            {
                "profileId": int.from_bytes(digest[:6], "big"),
                "countryCode": m.country_code,
                "currencyCode": m.currency,
                "accountInfo": {
                    "marketplaceStringId": m.id,
                    "id": account_id,
                    "type": "seller",
                    "name": f"Sandbox Store {account_id}",
                    "validPaymentMethod": True,
                },
            }
        )
    return profiles


def ads_routes() -> list[HTTPRouteHandler]:
    @get("/ads/{region:str}/v2/profiles", sync_to_thread=False)
    def profiles(request: Request, region: FromPath[str]) -> Response[Any]:
        if region not in REGIONS:
            return Response({"code": "NOT_FOUND", "details": "Unknown region"}, status_code=404)
        authorization = request.headers.get("authorization", "")
        grant = read(authorization.removeprefix("Bearer "), "Atza|")
        client_id = request.headers.get("amazon-advertising-api-clientid")
        if grant is None or client_id != SANDBOX_LWA_CLIENT_ID:
            return Response(
                {"code": "UNAUTHORIZED", "details": "Not authorized to access this advertiser"},
                status_code=401,
            )
        return Response(_ads_profiles(region, grant), status_code=200)

    return [profiles]

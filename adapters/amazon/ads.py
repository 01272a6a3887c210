"""The Advertising track's check: an Ads profile for the connection's marketplace whose
account is the same seller as the SP-API authorization.

`GET /v2/profiles` lists one profile per advertiser account and marketplace;
`accountInfo.id` is the seller's merchant id (the SP-API selling partner id) and
`accountInfo.marketplaceStringId` the marketplace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from adapters.amazon.errors import AmazonError
from adapters.amazon.retries import send
from adapters.amazon.settings import AmazonSettings
from adapters.amazon.throttle import RateLimits


@dataclass(frozen=True)
class AdvertisingProfile:
    profile_id: str
    marketplace_id: str
    country_code: str
    account_id: str
    account_type: str


def check_advertising(
    http: httpx.Client,
    settings: AmazonSettings,
    access_token: str,
    region: str,
    marketplace_ids: list[str],
    selling_partner_id: str,
    *,
    limits: RateLimits | None = None,
) -> list[AdvertisingProfile]:
    """Every profile of the connection's marketplaces that belongs to the selling partner,
    the one `choose` picks first (it raises when there is none)."""
    try:
        base = settings.ads_api_urls[region].rstrip("/")
    except KeyError:
        raise AmazonError("INTERNAL_ERROR", f"unknown Amazon region {region!r}") from None
    client_id, _ = settings.ads_credentials
    headers = {
        "authorization": f"Bearer {access_token}",
        "amazon-advertising-api-clientid": client_id,
        "accept": "application/json",
    }
    response = send(
        http,
        settings,
        "GET",
        f"{base}/v2/profiles",
        operation="Ads listProfiles",
        headers=headers,
        limits=limits,
        seller=selling_partner_id,
    )
    if response.status_code != 200:
        raise AmazonError("INTERNAL_ERROR", f"Ads listProfiles: HTTP {response.status_code}")
    try:
        profiles = [_profile(entry) for entry in response.json()]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AmazonError("AMAZON_UNAVAILABLE", "Ads listProfiles: malformed answer") from None
    chosen = choose(profiles, marketplace_ids, selling_partner_id)
    mine = [
        p
        for p in profiles
        if p.marketplace_id in marketplace_ids
        and p.account_id == selling_partner_id
        and p != chosen
    ]
    return [chosen, *mine]


def choose(
    profiles: list[AdvertisingProfile], marketplace_ids: list[str], selling_partner_id: str
) -> AdvertisingProfile:
    """The profile of the first requested marketplace that belongs to the selling partner."""
    candidates = [p for p in profiles if p.marketplace_id in marketplace_ids]
    if not candidates:
        raise AmazonError(
            "ADVERTISING_NOT_ENABLED", f"no advertising profile in {', '.join(marketplace_ids)}"
        )
    mine = [p for p in candidates if p.account_id == selling_partner_id]
    for marketplace_id in marketplace_ids:
        for profile in mine:
            if profile.marketplace_id == marketplace_id:
                return profile
    raise AmazonError(
        "ADVERTISING_ACCOUNT_MISMATCH",
        f"advertising account {candidates[0].account_id} is not selling partner "
        f"{selling_partner_id}",
    )


def _profile(entry: dict[str, Any]) -> AdvertisingProfile:
    info = entry["accountInfo"]
    return AdvertisingProfile(
        profile_id=str(entry["profileId"]),
        marketplace_id=str(info["marketplaceStringId"]),
        country_code=str(entry.get("countryCode", "")),
        account_id=str(info["id"]),
        account_type=str(info.get("type", "")),
    )

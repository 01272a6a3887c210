"""The account checks made with the fresh access token, through the Sellers API.

Read as Amazon defines its fields (sellers.json, amzn/selling-partner-api-models):

| Sellers API                                                   | outcome                          |
| ------------------------------------------------------------- | -------------------------------- |
| getAccount `sellingPlan` = INDIVIDUAL                         | NOT_PROFESSIONAL_ACCOUNT         |
| no marketplace `isParticipating`, some `hasSuspendedListings` | ACCOUNT_DEACTIVATED (inferred)   |
| no marketplace `isParticipating`, nothing suspended           | ACCOUNT_UNDER_REVIEW (inferred)  |
| a requested marketplace absent or `isParticipating` false     | MARKETPLACE_NOT_PARTICIPATING    |
| a requested marketplace with `hasSuspendedListings`           | warning ACCOUNT_IN_STAGING       |

- getAccount is served only in the EU region ("Sellers API": getAccount, Regions: EU,
  developer-docs.amazon.com/sp-api/docs/sellers-api); elsewhere it is not called, and where
  it is, a 400, 403 or 404 only means "no account details": participation still decides.
- `business` "may be omitted depending on the seller's businessType" (Business in
  sellers.json): its absence says nothing about registration, so it refuses nothing.
- `hasSuspendedListings` is "true if the seller Listing Status is set to Inactive" (vacation
  settings, or a new store still in staging): the owner can still connect, so it is a
  warning on the connection, not a refusal.
- Amazon reports no staging, review or deactivation state through the API; the inferred
  rows above are the only observations, and the catalogue says so per code.
"""

from __future__ import annotations

from typing import Any

import httpx

from adapters.amazon.errors import AmazonError
from adapters.amazon.retries import send
from adapters.amazon.settings import AmazonSettings
from adapters.amazon.throttle import RateLimits

# Where getAccount is served (see above); elsewhere Amazon answers it 403 or 404.
GET_ACCOUNT_REGIONS = frozenset({"eu"})
Warning = tuple[str, str]


def check_account(
    http: httpx.Client,
    settings: AmazonSettings,
    access_token: str,
    region: str,
    marketplace_ids: list[str],
    *,
    limits: RateLimits | None = None,
    seller: str | None = None,
) -> list[Warning]:
    """Raises the first problem as an `AmazonError`; returns warnings (code, detail)."""
    try:
        base = settings.sp_api_urls[region].rstrip("/")
    except KeyError:
        raise AmazonError("INTERNAL_ERROR", f"unknown Amazon region {region!r}") from None
    headers = {"x-amz-access-token": access_token, "accept": "application/json"}

    participations = _payload(
        http,
        settings,
        f"{base}/sellers/v1/marketplaceParticipations",
        headers,
        "getMarketplaceParticipations",
        limits=limits,
        seller=seller,
    )
    account = None
    if region in GET_ACCOUNT_REGIONS:
        account = _payload(
            http,
            settings,
            f"{base}/sellers/v1/account",
            headers,
            "getAccount",
            absent_on=(400, 403, 404),
            limits=limits,
            seller=seller,
        )
    try:
        problem = assess(account, participations, marketplace_ids)
        warnings = warnings_of(participations, marketplace_ids)
    except (AttributeError, TypeError):
        raise AmazonError("AMAZON_UNAVAILABLE", "Sellers API: malformed payload") from None
    if problem is not None:
        raise AmazonError(*problem)
    return warnings


def assess(
    account: dict[str, Any] | None,
    participations: list[dict[str, Any]],
    marketplace_ids: list[str],
) -> tuple[str, str] | None:
    """The first problem found, as (catalogue code, detail), or None when all is well."""
    if account is not None and str(account.get("sellingPlan", "")).upper() == "INDIVIDUAL":
        return "NOT_PROFESSIONAL_ACCOUNT", "getAccount: sellingPlan INDIVIDUAL"
    by_marketplace = _by_marketplace(participations)
    if by_marketplace and not any(p.get("isParticipating") for p in by_marketplace.values()):
        if any(p.get("hasSuspendedListings") for p in by_marketplace.values()):
            return "ACCOUNT_DEACTIVATED", "participates nowhere and has suspended listings"
        return "ACCOUNT_UNDER_REVIEW", "participates nowhere yet, nothing suspended"

    for marketplace_id in marketplace_ids:
        participation = by_marketplace.get(marketplace_id)
        if not participation or not participation.get("isParticipating"):
            return "MARKETPLACE_NOT_PARTICIPATING", f"not participating in {marketplace_id}"
    return None


def warnings_of(participations: list[dict[str, Any]], marketplace_ids: list[str]) -> list[Warning]:
    """What the owner should know but that does not stop the connection."""
    by_marketplace = _by_marketplace(participations)
    inactive = [m for m in marketplace_ids if by_marketplace.get(m, {}).get("hasSuspendedListings")]
    if not inactive:
        return []
    detail = f"listings set to Inactive (hasSuspendedListings) in {', '.join(inactive)}"
    return [("ACCOUNT_IN_STAGING", detail)]


def _by_marketplace(participations: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        entry.get("marketplace", {}).get("id"): entry.get("participation", {})
        for entry in participations
    }


def _payload(
    http: httpx.Client,
    settings: AmazonSettings,
    url: str,
    headers: dict[str, str],
    operation: str,
    *,
    absent_on: tuple[int, ...] = (),
    limits: RateLimits | None = None,
    seller: str | None = None,
) -> Any:
    response = send(
        http,
        settings,
        "GET",
        url,
        operation=operation,
        headers=headers,
        limits=limits,
        seller=seller,
    )
    if response.status_code in absent_on:
        return None
    if response.status_code != 200:
        raise AmazonError("INTERNAL_ERROR", f"{operation}: {_describe(response)}")
    try:
        return response.json()["payload"]
    except (ValueError, KeyError, TypeError):
        raise AmazonError("AMAZON_UNAVAILABLE", f"{operation}: malformed answer") from None


def _describe(response: httpx.Response) -> str:
    """HTTP status and SP-API's `errors[0].code`, e.g. "HTTP 403 Unauthorized"."""
    try:
        code = response.json()["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        code = "no error body"
    return f"HTTP {response.status_code} {code}"

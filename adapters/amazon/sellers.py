"""The account checks made with the fresh access token, through the Sellers API.

What Amazon returns, and what we read from it (first problem wins):

| Sellers API                                                   | catalogue code            |
| ------------------------------------------------------------- | ------------------------- |
| getAccount `sellingPlan` = INDIVIDUAL                         | NOT_PROFESSIONAL_ACCOUNT  |
| getAccount without `business` (registration not verified)     | ACCOUNT_SETUP_INCOMPLETE  |
| no marketplace `isParticipating`, some `hasSuspendedListings` | ACCOUNT_DEACTIVATED       |
| no marketplace `isParticipating`, nothing suspended           | ACCOUNT_UNDER_REVIEW      |
| a requested marketplace absent or `isParticipating` false     | MARKETPLACE_NOT_PARTICIPATING |
| a requested marketplace with `hasSuspendedListings`           | ACCOUNT_IN_STAGING        |

Amazon publishes no account-status field; these are inferences. `hasSuspendedListings`
means "listing status Inactive", the state a new store starts in (staging) and the one
vacation settings toggle. getAccount is not offered in every region: when it answers 403
or 404 the account-level rows are skipped and the participation rows still apply.
"""

from __future__ import annotations

from typing import Any

import httpx

from adapters.amazon.errors import AmazonError
from adapters.amazon.retries import send
from adapters.amazon.settings import AmazonSettings
from adapters.amazon.throttle import RateLimits


def check_account(
    http: httpx.Client,
    settings: AmazonSettings,
    access_token: str,
    region: str,
    marketplace_ids: list[str],
    *,
    limits: RateLimits | None = None,
    seller: str | None = None,
) -> None:
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
    account = _payload(
        http,
        settings,
        f"{base}/sellers/v1/account",
        headers,
        "getAccount",
        absent_on=(403, 404),
        limits=limits,
        seller=seller,
    )
    try:
        problem = assess(account, participations, marketplace_ids)
    except (AttributeError, TypeError):
        raise AmazonError("AMAZON_UNAVAILABLE", "Sellers API: malformed payload") from None
    if problem is not None:
        raise AmazonError(*problem)


def assess(
    account: dict[str, Any] | None,
    participations: list[dict[str, Any]],
    marketplace_ids: list[str],
) -> tuple[str, str] | None:
    """The first problem found, as (catalogue code, detail), or None when all is well."""
    if account is not None:
        if str(account.get("sellingPlan", "")).upper() == "INDIVIDUAL":
            return "NOT_PROFESSIONAL_ACCOUNT", "getAccount: sellingPlan INDIVIDUAL"
        if not account.get("business"):
            return "ACCOUNT_SETUP_INCOMPLETE", "getAccount: no verified business information"

    by_marketplace = {
        entry.get("marketplace", {}).get("id"): entry.get("participation", {})
        for entry in participations
    }
    if by_marketplace and not any(p.get("isParticipating") for p in by_marketplace.values()):
        if any(p.get("hasSuspendedListings") for p in by_marketplace.values()):
            return "ACCOUNT_DEACTIVATED", "participates nowhere and has suspended listings"
        return "ACCOUNT_UNDER_REVIEW", "participates nowhere yet, nothing suspended"

    for marketplace_id in marketplace_ids:
        participation = by_marketplace.get(marketplace_id)
        if not participation or not participation.get("isParticipating"):
            return "MARKETPLACE_NOT_PARTICIPATING", f"not participating in {marketplace_id}"
    for marketplace_id in marketplace_ids:
        if by_marketplace[marketplace_id].get("hasSuspendedListings"):
            return "ACCOUNT_IN_STAGING", f"listings inactive in {marketplace_id}"
    return None


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

"""The browser side of both consents: where to send the owner, and what an error on the
way back means.

SP-API: `/apps/authorize/consent` on the Seller Central host of the connection's first
marketplace, or its Vendor Central host for a vendor (SP-API developer guide, "Constructing an
OAuth authorization URI" and its Seller/Vendor Central URL tables; domain/marketplaces.csv).
It redirects back with `state`, `selling_partner_id`, `spapi_oauth_code` (valid 5 minutes).
Ads: Login with Amazon's `/ap/oa`; it redirects back with `code`, `scope` and `state`.
Either may instead come back with OAuth's `error` and `error_description`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from adapters.amazon.errors import AmazonError
from adapters.amazon.settings import AmazonSettings
from domain import marketplaces

ADS_SCOPE = "advertising::campaign_management"

# `error` on the redirect -> catalogue code. access_denied is OAuth's "the resource owner
# denied the request" (RFC 6749 §4.1.2.1; Login with Amazon, Authorization Code Grant >
# Authorization Errors): the owner declined, on the SP-API consent as on the Ads one. A
# signed-in user who may not authorize (not the primary user, nor a user granted "Manage
# Authorized Partners", amzn/selling-partner-api-models#4642) is stopped on Amazon's own
# page and never comes back here.
_CALLBACK_ERRORS = {
    "access_denied": "AUTHORIZATION_DECLINED",
    "server_error": "INTERNAL_ERROR",
    "temporarily_unavailable": "AMAZON_UNAVAILABLE",
}
# A region's consent when no marketplace is named: its oldest Seller Central.
_REGION_DEFAULT = {"na": "ATVPDKIKX0DER", "eu": "A1F83G8C2ARO7P", "fe": "A1VC38T7YXB528"}


def sp_consent_url(
    settings: AmazonSettings,
    region: str,
    state: str,
    *,
    marketplace_id: str | None = None,
    account_type: str = "seller",
) -> str:
    params = {"application_id": settings.application_id, "state": state}
    if settings.draft:
        params["version"] = "beta"
    if settings.redirect_uri:
        params["redirect_uri"] = settings.redirect_uri
    host = marketplaces.consent_host(
        marketplace_id or _REGION_DEFAULT.get(region, ""), account_type
    )
    if host is None:
        raise AmazonError(
            "INTERNAL_ERROR", f"no consent host for marketplace {marketplace_id!r} in {region!r}"
        )
    return f"{settings.consent_root}{host}/apps/authorize/consent?{urlencode(params)}"


def ads_consent_url(settings: AmazonSettings, region: str, state: str) -> str:
    client_id, _ = settings.ads_credentials
    params = {"client_id": client_id, "scope": ADS_SCOPE, "response_type": "code"}
    if settings.ads_redirect_uri:
        params["redirect_uri"] = settings.ads_redirect_uri
    params["state"] = state
    return f"{_for_region(settings.ads_consent_urls, region)}?{urlencode(params)}"


def callback_error_code(error: str, description: str | None) -> str:
    if "expired" in (description or "").lower():
        return "AUTHORIZATION_EXPIRED"
    # invalid_request, unauthorized_client, invalid_scope, unsupported_response_type and
    # anything unknown mean our request was wrong (a draft app without version=beta, an
    # unregistered redirect URI): nothing the seller can fix.
    return _CALLBACK_ERRORS.get(error.strip().lower(), "INTERNAL_ERROR")


def _for_region(urls: dict[str, str], region: str) -> str:
    try:
        return urls[region].rstrip("/")
    except KeyError:
        raise AmazonError("INTERNAL_ERROR", f"unknown Amazon region {region!r}") from None

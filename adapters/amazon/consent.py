"""The browser side of both consents: where to send the owner, and what an error on the
way back means.

SP-API: Seller Central's `/apps/authorize/consent` (website authorization workflow); it
redirects back with `state`, `selling_partner_id`, `spapi_oauth_code` (valid 5 minutes).
Ads: Login with Amazon's `/ap/oa`; it redirects back with `code`, `scope` and `state`.
Either may instead come back with OAuth's `error` and `error_description`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from adapters.amazon.errors import AmazonError
from adapters.amazon.settings import AmazonSettings

ADS_SCOPE = "advertising::campaign_management"

# `error` on the redirect -> catalogue code. access_denied is what the owner meets when the
# signed-in user is not the primary owner, and what declining the consent returns: either
# way only the primary owner approving fixes it.
_CALLBACK_ERRORS = {
    "access_denied": "NOT_PRIMARY_OWNER",
    "server_error": "INTERNAL_ERROR",
    "temporarily_unavailable": "AMAZON_UNAVAILABLE",
}


def sp_consent_url(settings: AmazonSettings, region: str, state: str) -> str:
    params = {"application_id": settings.application_id, "state": state}
    if settings.draft:
        params["version"] = "beta"
    if settings.redirect_uri:
        params["redirect_uri"] = settings.redirect_uri
    base = _for_region(settings.seller_central_urls, region)
    return f"{base}/apps/authorize/consent?{urlencode(params)}"


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

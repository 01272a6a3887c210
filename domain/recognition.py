"""What each catalogue code is recognised from, and where the owner sees it.

Amazon reports few account states through its APIs (sellers.json has no status field), and
some problems it shows only on its own pages, from which the owner is never sent back: then
all the service can see is the consent window expiring (AUTHORIZATION_EXPIRED, whose guide
names those causes). `shown_on` is "amazon" for those, "service" for what the service itself
observes and shows (callback page, guide, webhook, API problem).
"""

from __future__ import annotations

AMAZON, SERVICE = "amazon", "service"

RECOGNISED_FROM: dict[str, tuple[str, str]] = {
    "NOT_PRIMARY_OWNER": (
        AMAZON,
        "Not reported through Amazon's API. Amazon stops a signed-in user who may not "
        "authorize apps (neither the primary user nor a user granted Manage Authorized "
        "Partners, amzn/selling-partner-api-models#4642) on its own 'Invalid access' page; "
        "the owner is not sent back, so the service sees the consent window expire.",
    ),
    "NOT_PROFESSIONAL_ACCOUNT": (
        AMAZON,
        "getAccount's sellingPlan INDIVIDUAL where Amazon serves getAccount (EU). Elsewhere "
        "Amazon stops Individual accounts on its own page ('You must be the primary user of a "
        "Professional selling account'), and the service sees the consent window expire.",
    ),
    "ACCOUNT_SETUP_INCOMPLETE": (
        AMAZON,
        "Not reported through Amazon's API (getAccount's business block may be absent for a "
        "valid account). Seller Central keeps the owner in its registration steps, so the "
        "service sees the consent window expire.",
    ),
    "ACCOUNT_IN_STAGING": (
        SERVICE,
        "Not reported through Amazon's API. A requested marketplace with hasSuspendedListings "
        "(listings set to Inactive: a store in staging, or on vacation) in "
        "getMarketplaceParticipations is kept as a warning on the connection; it connects.",
    ),
    "ACCOUNT_UNDER_REVIEW": (
        SERVICE,
        "Not reported through Amazon's API; inferred when getMarketplaceParticipations lists "
        "no marketplace with isParticipating and none with suspended listings.",
    ),
    "ACCOUNT_DEACTIVATED": (
        SERVICE,
        "Not reported through Amazon's API; inferred when getMarketplaceParticipations lists "
        "no marketplace with isParticipating and some with suspended listings.",
    ),
    "MARKETPLACE_NOT_PARTICIPATING": (
        SERVICE,
        "getMarketplaceParticipations: a requested marketplace absent, or isParticipating false.",
    ),
    "AMAZON_UNAVAILABLE": (
        SERVICE,
        "LWA, the Sellers API or the Ads API answering 429 or 5xx, or not answering, after the "
        "retries; or a single-use code exchange that may have reached Amazon (not resent).",
    ),
    "AUTHORIZATION_EXPIRED": (
        SERVICE,
        "The consent window passing without a callback (also when Amazon stopped the owner on "
        "its own page), or LWA invalid_grant on the code exchange (a 5-minute, single-use code).",
    ),
    "TOKEN_EXCHANGE_FAILED": (
        SERVICE,
        "LWA refusing the code exchange with invalid_request or another request error, or "
        "answering without tokens; a callback carrying no code.",
    ),
    "SELLING_PARTNER_ALREADY_CONNECTED": (
        SERVICE,
        "The callback's selling_partner_id is already connected for this integrator.",
    ),
    "SELLING_PARTNER_MISMATCH": (
        SERVICE,
        "A re-authorization's selling_partner_id differs from the connection's.",
    ),
    "API_AUTHORIZATION_REQUIRED": (
        SERVICE,
        "A Seller Central step asked before the SP-API authorization completed.",
    ),
    "SELLER_CENTRAL_AUTHORIZATION_FAILED": (
        SERVICE,
        "The integrator reporting that its Seller Central user could not be confirmed.",
    ),
    "SELLER_CENTRAL_PERMISSIONS_INCORRECT": (
        SERVICE,
        "The permission levels the integrator reports differing from the required matrix.",
    ),
    "SELLER_CENTRAL_INVITE_EXPIRED": (
        SERVICE,
        "The Seller Central invitation deadline passing without confirmation.",
    ),
    "ADVERTISING_NOT_ENABLED": (
        SERVICE,
        "The Ads API's GET /v2/profiles listing no profile for the requested marketplaces.",
    ),
    "ADVERTISING_ACCOUNT_MISMATCH": (
        SERVICE,
        "The Ads profiles' accountInfo.id differing from the SP-API selling partner id.",
    ),
    "REAUTHORIZATION_REQUIRED": (
        SERVICE,
        "The yearly authorization lapsing without a re-authorization.",
    ),
    "ACCESS_REVOKED": (SERVICE, "LWA answering invalid_grant to a refresh token."),
    "INVITATION_EXPIRED": (SERVICE, "The invitation deadline passing without a consent."),
    "INTERNAL_ERROR": (
        SERVICE,
        "error=server_error on the redirect, an unexpected Sellers or Ads API answer, or a "
        "fault of the service itself.",
    ),
    "AUTHORIZATION_DECLINED": (
        SERVICE,
        "error=access_denied on the SP-API or Ads callback: the owner declined on Amazon's "
        "consent page (RFC 6749 §4.1.2.1).",
    ),
    "APP_CREDENTIALS_INVALID": (
        SERVICE,
        "LWA answering invalid_client or unauthorized_client with every configured client "
        "secret (LWA_CLIENT_SECRETS).",
    ),
    "VALIDATION_ERROR": (SERVICE, "The request's body, query or path failing validation."),
    "UNAUTHENTICATED": (SERVICE, "No valid API key in the Authorization header."),
    "FORBIDDEN": (SERVICE, "An API key without the right for the request."),
    "NOT_FOUND": (SERVICE, "No such resource for this tenant."),
    "METHOD_NOT_ALLOWED": (SERVICE, "An HTTP method the path does not serve."),
    "PAYLOAD_TOO_LARGE": (SERVICE, "A request body above MAX_BODY_BYTES."),
    "HEADERS_TOO_LARGE": (
        SERVICE,
        "A request line and headers above MAX_HEADER_BYTES, or more than MAX_HEADERS fields.",
    ),
    "REQUEST_TIMEOUT": (SERVICE, "A client that sends its request's head or body too slowly."),
    "INVALID_TRANSITION": (SERVICE, "An action the state machine does not allow now."),
    "VERSION_CONFLICT": (SERVICE, "A concurrent change, or If-Match naming a stale version."),
    "IDEMPOTENCY_KEY_REUSED": (SERVICE, "An Idempotency-Key reused for another request."),
    "RATE_LIMITED": (SERVICE, "The API key's request budget spent."),
    "SERVICE_UNAVAILABLE": (SERVICE, "The service's store or a dependency unavailable."),
}


def shown_on_amazon() -> tuple[str, ...]:
    """The codes whose owner stays on Amazon's page (the expired window's guide names them)."""
    return tuple(code for code, (where, _) in RECOGNISED_FROM.items() if where == AMAZON)

"""What the account owner can meet in the sandbox, picked on the consent page."""

from __future__ import annotations

APPROVE = "approve"
SANDBOX_OUTCOMES: dict[str, str] = {
    APPROVE: "The owner approves and every later check passes.",
    "NOT_PRIMARY_OWNER": "The signed-in user is not the primary owner (error on the redirect).",
    "NOT_PROFESSIONAL_ACCOUNT": "The account is on the Individual selling plan.",
    "ACCOUNT_SETUP_INCOMPLETE": "Amazon still needs registration information (no business).",
    "ACCOUNT_IN_STAGING": "The store is in staging: listings are inactive.",
    "ACCOUNT_UNDER_REVIEW": "Amazon is reviewing the account: no marketplace is active yet.",
    "ACCOUNT_DEACTIVATED": "Amazon blocked the account: not participating, listings suspended.",
    "MARKETPLACE_NOT_PARTICIPATING": "The account sells only in another region's marketplace.",
    "AMAZON_UNAVAILABLE": "Amazon's token endpoint answers 503 every time.",
    "AUTHORIZATION_EXPIRED": "The code has expired by the exchange (LWA invalid_grant).",
    "TOKEN_EXCHANGE_FAILED": "LWA rejects the exchange (invalid_request).",
    "INTERNAL_ERROR": "Seller Central fails (error=server_error on the redirect).",
    "ACCESS_REVOKED": "Consent succeeds; every later refresh fails with invalid_grant.",
    "ADVERTISING_NOT_ENABLED": "The advertiser has no Ads profile (empty profile list).",
    "ADVERTISING_ACCOUNT_MISMATCH": "The Ads profile belongs to another seller account.",
    "APP_CREDENTIALS_INVALID": "LWA refuses the app's client secret (invalid_client).",
    # Not catalogue codes: what Amazon does on the way, which the service must ride out.
    "throttled_once": "Approve, but LWA and the Sellers API first answer 429 once each.",
    "malformed_token_answer": "Approve, but LWA answers 200 without any token.",
}
SP_OUTCOMES: tuple[str, ...] = (
    APPROVE,
    "NOT_PRIMARY_OWNER",
    "NOT_PROFESSIONAL_ACCOUNT",
    "ACCOUNT_SETUP_INCOMPLETE",
    "ACCOUNT_IN_STAGING",
    "ACCOUNT_UNDER_REVIEW",
    "ACCOUNT_DEACTIVATED",
    "MARKETPLACE_NOT_PARTICIPATING",
    "AMAZON_UNAVAILABLE",
    "AUTHORIZATION_EXPIRED",
    "TOKEN_EXCHANGE_FAILED",
    "INTERNAL_ERROR",
    "ACCESS_REVOKED",
    "APP_CREDENTIALS_INVALID",
    "throttled_once",
    "malformed_token_answer",
)
ADS_OUTCOMES: tuple[str, ...] = (
    APPROVE,
    "ADVERTISING_NOT_ENABLED",
    "ADVERTISING_ACCOUNT_MISMATCH",
    "AMAZON_UNAVAILABLE",
    "APP_CREDENTIALS_INVALID",
)
# Outcomes Seller Central reports on the redirect itself, as OAuth's error/error_description.
REDIRECT_ERRORS = {
    "NOT_PRIMARY_OWNER": (
        "access_denied",
        "Only the primary account owner can authorize this application.",
    ),
    "INTERNAL_ERROR": ("server_error", "We were unable to complete the authorization."),
}

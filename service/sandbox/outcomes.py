"""What the account owner can meet in the sandbox, picked on the consent page."""

from __future__ import annotations

APPROVE = "approve"
SANDBOX_OUTCOMES: dict[str, str] = {
    APPROVE: "The owner approves and every later check passes.",
    "AUTHORIZATION_DECLINED": "The owner declines (access_denied on the redirect).",
    "NOT_PRIMARY_OWNER": "The signed-in user may not authorize apps: Amazon stops on its page.",
    "NOT_PROFESSIONAL_ACCOUNT": "The account is on the Individual plan: Amazon stops on its page.",
    "ACCOUNT_SETUP_INCOMPLETE": "Amazon still needs registration information: it stops there.",
    "ACCOUNT_IN_STAGING": "Approves; listings are set to Inactive (a warning, not a refusal).",
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
    "AUTHORIZATION_DECLINED",
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
    "AUTHORIZATION_DECLINED",
    "ADVERTISING_NOT_ENABLED",
    "ADVERTISING_ACCOUNT_MISMATCH",
    "AMAZON_UNAVAILABLE",
    "APP_CREDENTIALS_INVALID",
)
# Outcomes Amazon reports on the redirect itself, as OAuth's error/error_description.
REDIRECT_ERRORS = {
    "AUTHORIZATION_DECLINED": ("access_denied", "The user denied the request."),
    "INTERNAL_ERROR": ("server_error", "We were unable to complete the authorization."),
}
# Outcomes Amazon shows on its own page: the owner is not sent back, so the service only
# sees the consent window expire. The wording is what sellers report seeing
# (amzn/selling-partner-api-models#4642, #1348; amzn/selling-partner-api-docs#2191).
STOPPED_ON_AMAZON: dict[str, tuple[str, str]] = {
    "NOT_PRIMARY_OWNER": (
        "Invalid access",
        "You do not have permissions to view this page. Ask the account's primary user to "
        "authorize the app, or to give you the Manage Authorized Partners permission.",
    ),
    "NOT_PROFESSIONAL_ACCOUNT": (
        "You're not permitted to take this action",
        "You must be the primary user of a Professional selling account to take advantage "
        "of apps. If you are the primary user, you may upgrade your plan.",
    ),
    "ACCOUNT_SETUP_INCOMPLETE": (
        "Complete your registration",
        "Amazon needs more information before this account can use apps. Finish the steps "
        "of your seller registration first.",
    ),
}

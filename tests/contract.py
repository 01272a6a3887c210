"""The product's contract as the tests pin it: transcribed by hand from the specification
(`../shared/SPEC.md`, the section named beside each list), never read from the code under
test, so that the code is never the only source of its own test. Every test that checks
one of these lists imports it from here: a change of contract is one edit, here.
"""

from __future__ import annotations

# SPEC §2: the states, in the order of its table.
STATES: tuple[str, ...] = (
    "invited",
    "owner_pending",
    "api_authorized",
    "sc_user_invited",
    "permissions_verified",
    "active",
    "reauth_due",
    "disconnected",
)

# SPEC §4: the actions an integrator may POST, in the order it lists them.
PUBLIC_ACTIONS: tuple[str, ...] = (
    "resend_invitation",
    "start_authorization",
    "invite_seller_central_user",
    "confirm_seller_central_user",
    "fail_seller_central_authorization",
    "start_advertising_authorization",
    "activate",
    "start_reauthorization",
    "disconnect",
)

# SPEC §3: the codes a seller can meet, in its order.
SELLER_FACING_CODES: tuple[str, ...] = (
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
    "SELLING_PARTNER_ALREADY_CONNECTED",
    "SELLING_PARTNER_MISMATCH",
    "API_AUTHORIZATION_REQUIRED",
    "SELLER_CENTRAL_AUTHORIZATION_FAILED",
    "SELLER_CENTRAL_PERMISSIONS_INCORRECT",
    "SELLER_CENTRAL_INVITE_EXPIRED",
    "ADVERTISING_NOT_ENABLED",
    "ADVERTISING_ACCOUNT_MISMATCH",
    "REAUTHORIZATION_REQUIRED",
    "ACCESS_REVOKED",
    "INVITATION_EXPIRED",
    "INTERNAL_ERROR",
    "AUTHORIZATION_DECLINED",
    "APP_CREDENTIALS_INVALID",
)

# The seller-facing codes that come from Amazon's side of a consent (SPEC §3, §7): the
# sandbox must be able to play each of them.
AMAZON_SIDE_CODES: frozenset[str] = frozenset(
    {
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
        "ADVERTISING_NOT_ENABLED",
        "ADVERTISING_ACCOUNT_MISMATCH",
        "AUTHORIZATION_DECLINED",
        "APP_CREDENTIALS_INVALID",
    }
)

# SPEC §3: API-level codes and their HTTP status (VERSION_CONFLICT is 412 for If-Match).
# METHOD_NOT_ALLOWED, PAYLOAD_TOO_LARGE, HEADERS_TOO_LARGE and REQUEST_TIMEOUT are the
# design's additions beside them.
API_LEVEL_STATUS: dict[str, int] = {
    "VALIDATION_ERROR": 422,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "PAYLOAD_TOO_LARGE": 413,
    "INVALID_TRANSITION": 409,
    "VERSION_CONFLICT": 409,
    "IDEMPOTENCY_KEY_REUSED": 422,
    "RATE_LIMITED": 429,
    "SERVICE_UNAVAILABLE": 503,
    "HEADERS_TOO_LARGE": 431,
    "REQUEST_TIMEOUT": 408,
}

# SPEC §5 names webhook types `connection.<event>`; these are the stored events' topics
# (what existing stores hold: they must keep loading) and the event each becomes.
EVENT_TOPICS: dict[str, str] = {
    "domain.connection:Connection.Invited": "invited",
    "domain.connection:Connection.Erased": "erased",
    "domain.connection:Connection.InvitationResent": "invitation_resent",
    "domain.connection:Connection.AuthorizationStarted": "authorization_started",
    "domain.connection:Connection.AuthorizationCompleted": "api_authorized",
    "domain.connection:Connection.AuthorizationFailed": "authorization_failed",
    # SPEC §9: an imported authorization starts the connection in api_authorized.
    "domain.connection:Connection.AuthorizationImported": "authorization_imported",
    "domain.connection:Connection.SellerCentralUserInvited": "seller_central_user_invited",
    "domain.connection:Connection.SellerCentralPermissionsVerified": "permissions_verified",
    "domain.connection:Connection.SellerCentralPermissionsRejected": "permissions_incorrect",
    "domain.connection:Connection.SellerCentralAuthorizationFailed": (
        "seller_central_authorization_failed"
    ),
    "domain.connection:Connection.SellerCentralInviteExpired": "seller_central_invite_expired",
    "domain.connection:Connection.AdvertisingAuthorizationStarted": (
        "advertising_authorization_started"
    ),
    "domain.connection:Connection.AdvertisingConnected": "advertising_connected",
    "domain.connection:Connection.AdvertisingFailed": "advertising_failed",
    "domain.connection:Connection.Activated": "activated",
    "domain.connection:Connection.ReauthMarkedDue": "reauth_due",
    "domain.connection:Connection.ReauthReminded": "reauth_reminder",
    "domain.connection:Connection.Lapsed": "reauthorization_required",
    "domain.connection:Connection.ReauthorizationStarted": "reauthorization_started",
    "domain.connection:Connection.Reauthorized": "reauthorized",
    "domain.connection:Connection.ReauthorizationFailed": "reauthorization_failed",
    "domain.connection:Connection.WarningRecorded": "warning",
    "domain.connection:Connection.Disconnected": "disconnected",
}

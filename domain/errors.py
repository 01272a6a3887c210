"""The error catalogue: every error a seller or an API client can meet, in one place.

Seller-facing entries come from the help-centre articles in the shared seeds (PayHelm,
ChannelAdvisor, A2X, Codisto, Perpetua). `source_message` quotes a product's own message
verbatim so support can match what a seller reports; `message` and `remediation` are ours.
Served as is at `GET /v1/errors`; the guide endpoint shows `remediation` of `last_error`.
"""

from dataclasses import dataclass, replace

from domain.recognition import RECOGNISED_FROM

WHO_ACTS: tuple[str, ...] = ("owner", "integrator", "amazon", "support", "service", "nobody")


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    code: str
    title: str
    message: str
    remediation: tuple[str, ...]
    who_acts: str
    retryable: bool
    http_status: int
    source_message: str | None = None
    source: str | None = None
    # What the service recognises the code from, and where the owner sees it ("amazon":
    # on Amazon's own page, never coming back; "service"): domain/recognition.py.
    recognised_from: str = ""
    shown_on: str = "service"

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "title": self.title,
            "message": self.message,
            "remediation": list(self.remediation),
            "who_acts": self.who_acts,
            "retryable": self.retryable,
            "http_status": self.http_status,
            "source_message": self.source_message,
            "source": self.source,
            "recognised_from": self.recognised_from,
            "shown_on": self.shown_on,
        }


# The Seller Central user's permission matrix (ChannelAdvisor): View & Edit everywhere, View
# where View & Edit is not offered, and None for the two categories that would let the user
# sign agreements or manage users.
PERMISSION_LEVELS: tuple[str, ...] = ("none", "view", "view_and_edit", "admin")

REQUIRED_SC_PERMISSIONS: dict[str, str] = {
    "inventory": "view_and_edit",
    "pricing": "view_and_edit",
    "orders": "view_and_edit",
    "reports": "view_and_edit",
    "advertising": "view_and_edit",
    "payments": "view",  # reports-like: Seller Central offers no edit level
    "brand": "view_and_edit",
    "business_reports": "view",  # reports-like: Seller Central offers no edit level
    "fba_inventory": "view_and_edit",
    "settings_account_info": "view_and_edit",
    "settings_shipping": "view_and_edit",
    "settings_notification_preferences": "view_and_edit",
    "settings_agreements_amendments": "none",
    "settings_user_permissions": "none",
}


def permission_differences(granted: dict[str, str]) -> dict[str, dict[str, str]]:
    """Categories whose granted level is not exactly the required one.

    More than required counts too: the matrix asks for exactly these levels. A category
    missing from `granted` means "none"; categories we do not check are ignored.
    """
    differences = {}
    for category, required in REQUIRED_SC_PERMISSIONS.items():
        level = granted.get(category, "none")
        if level != required:
            differences[category] = {"required": required, "granted": level}
    return differences


_SC_MATRIX_STEP = (
    'Set every permission category to "View & Edit" (or "View" where "View & Edit" is not '
    "offered), except Settings > Agreements/Amendments and Settings > User Permissions, "
    'which must be "None".'
)

_SELLER_FACING_ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="NOT_PRIMARY_OWNER",
        title="Not allowed to authorize apps for this account",
        # Amazon's current rule: the primary user, or a user given the "Manage Authorized
        # Partners" permission (and "Selling Partner Appstore" for apps listed there), may
        # authorize (Selling Partner Developer Services, amzn/selling-partner-api-models#4642).
        message=(
            "The Amazon user you signed in with may not authorize apps for this seller "
            "account. The primary owner can, and so can a user the owner has given the "
            '"Manage Authorized Partners" permission. Once the account is connected, other '
            "users can still see its data."
        ),
        remediation=(
            "Sign in to Amazon as the primary owner (in Seller Central, Settings > User "
            'Permissions shows the user marked "Primary" or "Account Owner") and open the '
            "connection link again.",
            'Or ask the owner to give your user the "Manage Authorized Partners" permission '
            '(and "Selling Partner Appstore" if the app is listed there) in Settings > User '
            "Permissions, then open the connection link again.",
            "If you cannot tell who the owner is, ask Amazon Seller Support to identify the "
            "account owner.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
        source_message=(
            "You must be the primary owner of a Professional selling account to take "
            "advantage of this integration."
        ),
        source="PayHelm",
    ),
    CatalogueEntry(
        code="NOT_PROFESSIONAL_ACCOUNT",
        title="Not a Professional selling account",
        message=(
            "This Amazon account is on the Individual selling plan. Amazon gives apps access "
            "only to accounts on the Professional selling plan."
        ),
        remediation=(
            "In Seller Central, change the selling plan from Individual to Professional "
            "(Settings > Account Info).",
            "Once Amazon shows the Professional plan as active, open the connection link "
            "again and approve access.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
        source_message=(
            "The account you are connecting to is not a Professional Amazon seller account."
        ),
        source="Codisto",
    ),
    CatalogueEntry(
        code="ACCOUNT_SETUP_INCOMPLETE",
        title="Amazon account setup not finished",
        message=(
            "Amazon has not finished setting up this seller account: it is waiting for more "
            "information from you, such as proof of business address or an identity document."
        ),
        remediation=(
            "In Seller Central, check Performance Notifications and your e-mail for Amazon's "
            "request.",
            "Send Amazon the information it asks for and wait until it confirms that "
            "registration is complete.",
            "Open the connection link again and approve access.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="ACCOUNT_IN_STAGING",
        title="Listings set to inactive",
        message=(
            "The account is connected, but Amazon reports its listings as inactive in this "
            "marketplace: a new store still in staging mode, or vacation settings. Buyers do "
            "not see the listings until they are active again."
        ),
        remediation=(
            "In Seller Central, check the listing status (vacation) settings and set the "
            "listings to active when you are ready to sell.",
            "If the store stays in staging mode, ask Amazon Seller Support to take it out.",
            "Nothing else is needed: the connection itself is complete.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="ACCOUNT_UNDER_REVIEW",
        title="Amazon account under review",
        message=(
            "Amazon flagged this seller account for an additional review during setup and is "
            "still reviewing it. The account cannot be connected until the review ends."
        ),
        remediation=(
            "Wait for Amazon to finish its review; there is nothing to change on your side.",
            "Watch Seller Central notifications and your e-mail in case Amazon asks for anything.",
            "When Amazon has completed the review, open the connection link again.",
        ),
        who_acts="amazon",
        # Trying again only helps after Amazon's review, which can take days.
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="ACCOUNT_DEACTIVATED",
        title="Amazon account blocked or terminated",
        message="Amazon has blocked or terminated this seller account, so it cannot be connected.",
        remediation=(
            "Look for a notice in Seller Central or an e-mail from Amazon that explains why.",
            "Contact Amazon Seller Support to resolve it.",
            "Once Amazon has reinstated the account, open the connection link again.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="MARKETPLACE_NOT_PARTICIPATING",
        title="Not selling in this marketplace",
        message=(
            "The Amazon account you signed in with does not sell in the marketplace this "
            "connection asks for, or is registered in another region (North America, Europe "
            "or Far East)."
        ),
        remediation=(
            "Check the region and marketplaces named in the connection request.",
            "Sign in with the Seller Central login of the account that sells in that marketplace.",
            "If the request names the wrong region or marketplace, ask whoever invited you "
            "to send a new invitation with the right ones.",
            "If your account should sell there, check its marketplace registration in Seller "
            "Central, and contact Amazon Seller Support if it is missing.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="AMAZON_UNAVAILABLE",
        title="Amazon could not be reached",
        message=(
            "Amazon did not respond or returned an error, so the connection could not be "
            "completed. Nothing needs to change in your account."
        ),
        remediation=(
            "Wait a few minutes, then try connecting again.",
            "If it keeps failing, contact Amazon Seller Support.",
        ),
        who_acts="amazon",
        retryable=True,
        http_status=503,
        source_message="Couldn't connect, contact Amazon.",
        source="Codisto",
    ),
    CatalogueEntry(
        code="AUTHORIZATION_EXPIRED",
        title="Authorization expired",
        message=(
            "The authorization expired before it was completed. You have 15 minutes from "
            "opening the link to approve access on Amazon, and Amazon's approval is only "
            "valid for 5 minutes after you return."
        ),
        remediation=(
            "Open the connection link again to start a new authorization.",
            "Sign in to Amazon and approve access straight away, within 15 minutes.",
            "If it expires again, clear your browser's cache and cookies and start over.",
        ),
        who_acts="owner",
        retryable=True,
        http_status=422,
        source_message="Session has expired. Please try again.",
        source="Perpetua",
    ),
    CatalogueEntry(
        code="TOKEN_EXCHANGE_FAILED",
        title="Could not obtain access from Amazon",
        message=(
            "You approved access, but Amazon did not give us the access token. This usually "
            "means the login you used belongs to another region, or to an account that does "
            "not sell in the marketplace this connection asks for."
        ),
        remediation=(
            "Check that the Amazon login you use belongs to the marketplace and region named "
            "in the connection request.",
            "Clear your browser's cache, or use a private window or another browser.",
            "Open the connection link again and approve access.",
            "If it still fails, contact support with the time of your latest attempt.",
        ),
        who_acts="owner",
        retryable=True,
        http_status=422,
        source_message="Failed to retrieve refresh token. Please try again.",
        source="Perpetua",
    ),
    CatalogueEntry(
        code="SELLING_PARTNER_ALREADY_CONNECTED",
        title="Amazon account already connected",
        message=(
            "This Amazon seller account is already connected to this product through another "
            "connection, and an account can only be connected once."
        ),
        remediation=(
            "Look for the existing connection for this Amazon account and keep using it.",
            "If it must be replaced, disconnect the existing connection first, then connect again.",
            "If you cannot find it, contact support to locate it.",
        ),
        who_acts="integrator",
        retryable=False,
        http_status=409,
        source_message="This account is already in use. Please Try Again.",
        source="Perpetua",
    ),
    CatalogueEntry(
        code="SELLING_PARTNER_MISMATCH",
        title="Different Amazon account",
        message=(
            "You re-authorized with a different Amazon seller account from the one this "
            "connection belongs to, so the authorization was not accepted."
        ),
        remediation=(
            "Sign out of Amazon and sign in with the seller account this connection belongs "
            "to (its merchant ID is shown on the connection).",
            "Start the re-authorization again and approve access.",
            "If the business now sells from another account, disconnect this connection and "
            "create a new one for that account.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=409,
    ),
    CatalogueEntry(
        code="API_AUTHORIZATION_REQUIRED",
        title="Amazon API authorization not complete",
        message=(
            "The Seller Central user can only be set up after the Amazon API authorization "
            "is complete."
        ),
        remediation=(
            "The account owner opens the connection link and approves access on Amazon.",
            "Once the connection shows as API authorized, invite the Seller Central user.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=409,
        source_message=(
            "API Authorization Status must be complete before Seller Central Authorization "
            "may be started"
        ),
        source="ChannelAdvisor",
    ),
    CatalogueEntry(
        code="SELLER_CENTRAL_AUTHORIZATION_FAILED",
        title="Seller Central authorization failed",
        message=(
            "We could not finish setting up our Seller Central user on your account: the "
            "invitation was not accepted or the user's permissions are wrong. Your product "
            "and order feeds are NOT affected; only features that need the Seller Central "
            "user, such as account health and Buy Box data, are unavailable."
        ),
        remediation=(
            "In Seller Central, open Settings > User Permissions and check that our user is "
            "invited and confirmed.",
            _SC_MATRIX_STEP,
            "Save, then ask us to check the Seller Central user again.",
            "If everything looks right and it still fails, contact support.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
        source_message="Error: Seller Central Authorization failed. Please update authorization.",
        source="ChannelAdvisor",
    ),
    CatalogueEntry(
        code="SELLER_CENTRAL_PERMISSIONS_INCORRECT",
        title="Seller Central user permissions incorrect",
        message=(
            "Our Seller Central user exists but its permissions differ from the ones needed; "
            "the error lists each category to change. Your product and order feeds are not "
            "affected."
        ),
        remediation=(
            "In Seller Central, open Settings > User Permissions and select our user.",
            _SC_MATRIX_STEP,
            "Save the permissions, then confirm the Seller Central user again.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
        # ChannelAdvisor shows the same message for wrong permissions as for a failed invite.
        source_message="Error: Seller Central Authorization failed. Please update authorization.",
        source="ChannelAdvisor",
    ),
    CatalogueEntry(
        code="SELLER_CENTRAL_INVITE_EXPIRED",
        title="Seller Central invitation expired",
        message=(
            "The Seller Central invitation for our user expired before it was accepted. "
            "Your product and order feeds are not affected."
        ),
        remediation=(
            "In Seller Central, open Settings > User Permissions and remove the expired "
            "invitation.",
            "Send a new invitation to the Seller Central user e-mail shown on the connection.",
            "Allow 60 minutes or more for the invitation to be accepted, then set the "
            "user's permissions.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="ADVERTISING_NOT_ENABLED",
        title="Amazon advertising not enabled",
        message=(
            "This Amazon account has no advertising profile for the marketplace, usually "
            "because it has never run ads there."
        ),
        remediation=(
            "In Seller Central, enable advertising for the marketplace and create at least "
            "one campaign.",
            "Allow up to 24 hours for Amazon to make the advertising data available.",
            "Connect advertising again.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="ADVERTISING_ACCOUNT_MISMATCH",
        title="Advertising account does not match",
        message=(
            "The Amazon Ads account you connected does not belong to the same seller account "
            "as the Selling Partner API connection."
        ),
        remediation=(
            "Connect a different account: start the advertising connection again and sign in "
            "with the Amazon login that manages advertising for this seller account.",
            'Make sure that login has "View and Edit" advertising permissions in Seller Central.',
            "If the permissions are already right and you are an agency, ask the account "
            "owner to remove your users and add them back; this makes Amazon refresh them.",
            "If it still fails, contact support.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
        source_message="Amazon Advertising Error",
        source="Perpetua",
    ),
    CatalogueEntry(
        code="REAUTHORIZATION_REQUIRED",
        title="Yearly re-authorization required",
        message=(
            "Amazon asks sellers to confirm every 12 months that apps may keep accessing "
            "their account (Developer Access Confirmation). That confirmation is due or has "
            "lapsed; without it, access to your Amazon data stops."
        ),
        remediation=(
            "The primary account owner opens the reconnect link for the Selling Partner API.",
            "Sign in with the same seller account and approve access within 15 minutes.",
            "Access continues; the next confirmation is due in 12 months.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
        source_message="We no longer have access to the SP API",
        source="Perpetua",
    ),
    CatalogueEntry(
        code="ACCESS_REVOKED",
        title="Access revoked",
        message=(
            "Amazon no longer accepts our access to this account: the app was removed from "
            "the account's authorized apps, or Amazon rejected the stored authorization."
        ),
        remediation=(
            "If you removed the app on purpose, there is nothing else to do.",
            "Otherwise, the primary account owner re-authorizes the connection.",
            "Sign in with the same seller account and approve access within 15 minutes.",
        ),
        who_acts="owner",
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="INVITATION_EXPIRED",
        title="Invitation expired",
        message=(
            "The account owner did not accept the invitation to connect within 14 days, so "
            "it expired."
        ),
        remediation=(
            "Check that the owner's e-mail address is correct.",
            "Send the owner a new invitation.",
            "Ask the owner to look for the e-mail, including in spam, and follow its link "
            "within 14 days.",
        ),
        who_acts="integrator",
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="INTERNAL_ERROR",
        title="Something went wrong on our side",
        message=(
            "An error occurred in our service. It was not caused by your Amazon account, "
            "and trying again often works."
        ),
        remediation=(
            "Try connecting again.",
            "Clear your browser's cache and cookies, then try again.",
            "Try again in a different browser.",
            "If it still fails, contact support with your Amazon merchant ID and the date "
            "and time, with your time zone, of your latest attempt.",
        ),
        who_acts="support",
        retryable=True,
        http_status=500,
        source_message="An error has occurred",
        source="Codisto",
    ),
    CatalogueEntry(
        code="AUTHORIZATION_DECLINED",
        title="Access declined on Amazon",
        message=(
            "The request for access was declined on Amazon's consent page, so nothing was "
            "connected. Nothing changed in your Amazon account."
        ),
        remediation=(
            "If declining was a mistake, open the connection link again and choose to allow "
            "access on Amazon's page.",
            "If you did not mean to connect this account, there is nothing to do; tell whoever "
            "invited you.",
        ),
        who_acts="owner",
        retryable=True,
        http_status=422,
    ),
    CatalogueEntry(
        code="APP_CREDENTIALS_INVALID",
        title="The integrator's Amazon app credentials were refused",
        message=(
            "Amazon refused the integrator's own application credentials (its Login with "
            "Amazon client secret is wrong or has expired). Nothing is wrong with your "
            "Amazon account and there is nothing for you to do."
        ),
        remediation=(
            "Integrator: open the app in Amazon's Solution Provider Portal (Develop Apps), "
            "check the LWA client ID and rotate the client secret if it expired.",
            "Put the new secret first in LWA_CLIENT_SECRETS (keep the old one after it during "
            "the overlap) and restart the service; see the README's rotation runbook.",
            "Then ask the owner to open the connection link again.",
        ),
        who_acts="integrator",
        retryable=True,
        http_status=502,
    ),
)

# API-level errors are read by the integrator's developers, not by sellers.
_API_LEVEL_ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="VALIDATION_ERROR",
        title="Invalid request",
        message="The request body or parameters are invalid.",
        remediation=(
            "Read the errors listed in the response to see which fields are invalid.",
            "Correct the request and send it again.",
        ),
        who_acts="integrator",
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="UNAUTHENTICATED",
        title="Missing or invalid API key",
        message="The request does not carry a valid API key.",
        remediation=(
            'Send the key in the Authorization header as "Bearer <api key>".',
            "If the key was revoked or lost, create a new one and retry.",
        ),
        who_acts="integrator",
        retryable=False,
        http_status=401,
    ),
    CatalogueEntry(
        code="FORBIDDEN",
        title="Not allowed",
        message="The API key is valid but lacks the scope this operation needs.",
        remediation=(
            "Use an API key that has the required scope.",
            "If you have none, ask an administrator to create one.",
        ),
        who_acts="integrator",
        retryable=False,
        http_status=403,
    ),
    CatalogueEntry(
        code="NOT_FOUND",
        title="Not found",
        message="No such resource exists for your account.",
        remediation=(
            "Check the identifier in the URL.",
            "Check that you use the API key of the tenant that owns the resource.",
        ),
        who_acts="integrator",
        retryable=False,
        http_status=404,
    ),
    CatalogueEntry(
        code="METHOD_NOT_ALLOWED",
        title="Method not allowed",
        message="This path does not support the HTTP method used.",
        remediation=("Check the API reference at /docs for the methods this path supports.",),
        who_acts="integrator",
        retryable=False,
        http_status=405,
    ),
    CatalogueEntry(
        code="PAYLOAD_TOO_LARGE",
        title="Request body too large",
        message="The request body is larger than the service accepts.",
        remediation=("Send a smaller request body.",),
        who_acts="integrator",
        retryable=False,
        http_status=413,
    ),
    CatalogueEntry(
        code="INVALID_TRANSITION",
        title="Action not allowed in this state",
        message="The connection's current state does not allow this action.",
        remediation=(
            "Read allowed_actions in the response to see what the connection accepts now.",
            "Call one of those actions, or wait until the connection reaches a state where "
            "this one applies.",
        ),
        who_acts="integrator",
        retryable=False,
        http_status=409,
    ),
    CatalogueEntry(
        code="VERSION_CONFLICT",
        title="Connection changed meanwhile",
        # The API answers 412 instead when If-Match names a stale version.
        message="The connection changed after you read it, so the action was not applied.",
        remediation=(
            "Fetch the connection again to get its current version and ETag.",
            "Check that the action still makes sense, then retry it.",
        ),
        who_acts="integrator",
        retryable=True,
        http_status=409,
    ),
    CatalogueEntry(
        code="IDEMPOTENCY_KEY_REUSED",
        title="Idempotency key reused",
        message="This Idempotency-Key was already used for a different request.",
        remediation=(
            "Use a new Idempotency-Key for a new request.",
            "To retry the original request, send exactly the same request with the same key.",
        ),
        who_acts="integrator",
        retryable=False,
        http_status=422,
    ),
    CatalogueEntry(
        code="RATE_LIMITED",
        title="Too many requests",
        message="Too many requests were sent in a short time.",
        remediation=(
            "Wait the number of seconds given in the Retry-After header.",
            "Retry, and spread requests out over time.",
        ),
        who_acts="integrator",
        retryable=True,
        http_status=429,
    ),
    CatalogueEntry(
        code="SERVICE_UNAVAILABLE",
        title="Service temporarily unavailable",
        message="The service cannot handle the request right now.",
        remediation=(
            "Wait the number of seconds given in the Retry-After header.",
            "Retry with the same Idempotency-Key so the request is not applied twice.",
        ),
        who_acts="service",
        retryable=True,
        http_status=503,
    ),
    CatalogueEntry(
        code="HEADERS_TOO_LARGE",
        title="Request headers too large",
        message="The request's headers are larger, or more numerous, than the service accepts.",
        remediation=(
            "Send fewer or smaller headers (cookies and long tokens are the usual cause).",
        ),
        who_acts="integrator",
        retryable=False,
        http_status=431,
    ),
    CatalogueEntry(
        code="REQUEST_TIMEOUT",
        title="Request not received in time",
        message="The request's headers or body did not arrive within the time allowed.",
        remediation=("Send the whole request promptly, then retry.",),
        who_acts="integrator",
        retryable=True,
        http_status=408,
    ),
)

SELLER_FACING: tuple[str, ...] = tuple(e.code for e in _SELLER_FACING_ENTRIES)
API_LEVEL: tuple[str, ...] = tuple(e.code for e in _API_LEVEL_ENTRIES)


def _recognised(e: CatalogueEntry) -> CatalogueEntry:
    shown_on, recognised_from = RECOGNISED_FROM[e.code]
    return replace(e, recognised_from=recognised_from, shown_on=shown_on)


CATALOGUE: dict[str, CatalogueEntry] = {
    e.code: _recognised(e) for e in _SELLER_FACING_ENTRIES + _API_LEVEL_ENTRIES
}
# The owner Amazon stops on its own page never comes back: the expired window's guide
# names those causes, so the owner can tell which one they met.
_STOPPED = [CATALOGUE[code] for code in SELLER_FACING if CATALOGUE[code].shown_on == "amazon"]
CATALOGUE["AUTHORIZATION_EXPIRED"] = replace(
    CATALOGUE["AUTHORIZATION_EXPIRED"],
    remediation=(
        *CATALOGUE["AUTHORIZATION_EXPIRED"].remediation,
        "If Amazon showed a message instead of sending you back, it is one of these: "
        + "; ".join(f"{e.title} ({e.code}): {e.remediation[0]}" for e in _STOPPED),
    ),
)


def entry(code: str) -> CatalogueEntry:
    """The entry for `code`; an unknown code is our own fault, so it reads as INTERNAL_ERROR."""
    return CATALOGUE.get(code, CATALOGUE["INTERNAL_ERROR"])

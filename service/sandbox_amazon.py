"""The sandbox Amazon: Seller Central's consent, LWA, the Sellers API and the Ads API, served
by the service itself so the real `AmazonClient` runs against it (SANDBOX=1).

Stateless: the outcome a person (or a script, with `&sandbox_outcome=`) picks on the
consent page travels inside what Amazon would issue next, e.g. the code
`sbx.ACCOUNT_IN_STAGING.<selling partner id>.<random>`, then `Atzr|sbx.…` and `Atza|sbx.…`,
so each later endpoint answers as Amazon would for such an account.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect

from adapters.amazon.consent import ADS_SCOPE
from adapters.amazon.settings import (
    REGIONS,
    SANDBOX_APPLICATION_ID,
    SANDBOX_LWA_CLIENT_ID,
    SANDBOX_LWA_CLIENT_SECRET,
)

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
)
ADS_OUTCOMES: tuple[str, ...] = (
    APPROVE,
    "ADVERTISING_NOT_ENABLED",
    "ADVERTISING_ACCOUNT_MISMATCH",
    "AMAZON_UNAVAILABLE",
)
# Outcomes Seller Central reports on the redirect itself, as OAuth's error/error_description.
_REDIRECT_ERRORS = {
    "NOT_PRIMARY_OWNER": (
        "access_denied",
        "Only the primary account owner can authorize this application.",
    ),
    "INTERNAL_ERROR": ("server_error", "We were unable to complete the authorization."),
}

# id, country, currency, language, domain
_MARKETPLACES: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "na": (
        ("ATVPDKIKX0DER", "US", "USD", "en_US", "www.amazon.com"),
        ("A2EUQ1WTGCTBG2", "CA", "CAD", "en_CA", "www.amazon.ca"),
        ("A1AM78C64UM0Y8", "MX", "MXN", "es_MX", "www.amazon.com.mx"),
        ("A2Q3Y263D00KWC", "BR", "BRL", "pt_BR", "www.amazon.com.br"),
    ),
    "eu": (
        ("A1F83G8C2ARO7P", "GB", "GBP", "en_GB", "www.amazon.co.uk"),
        ("A1PA6795UKMFR9", "DE", "EUR", "de_DE", "www.amazon.de"),
        ("A13V1IB3VIYZZH", "FR", "EUR", "fr_FR", "www.amazon.fr"),
        ("A1RKKUPIHCS9HS", "ES", "EUR", "es_ES", "www.amazon.es"),
        ("APJ6JRA9NG5V4", "IT", "EUR", "it_IT", "www.amazon.it"),
        ("A1805IZSGTT6HS", "NL", "EUR", "nl_NL", "www.amazon.nl"),
        ("A2NODRKZP88ZB9", "SE", "SEK", "sv_SE", "www.amazon.se"),
        ("A1C3SOZRARQ6R3", "PL", "PLN", "pl_PL", "www.amazon.pl"),
        ("A33AVAJ2PDY3EV", "TR", "TRY", "tr_TR", "www.amazon.com.tr"),
        ("A2VIGQ35RCS4UG", "AE", "AED", "en_AE", "www.amazon.ae"),
        ("A21TJRUUN4KGV", "IN", "INR", "en_IN", "www.amazon.in"),
        ("ARBP9OOSHTCHU", "EG", "EGP", "en_EG", "www.amazon.eg"),
    ),
    "fe": (
        ("A1VC38T7YXB528", "JP", "JPY", "ja_JP", "www.amazon.co.jp"),
        ("A39IBJ37TRP1C6", "AU", "AUD", "en_AU", "www.amazon.com.au"),
        ("A19VAU5U5O7RUS", "SG", "SGD", "en_SG", "www.amazon.sg"),
    ),
}
MARKETPLACE_IDS: dict[str, tuple[str, ...]] = {
    region: tuple(m[0] for m in marketplaces) for region, marketplaces in _MARKETPLACES.items()
}
_ELSEWHERE = {"na": "eu", "eu": "na", "fe": "na"}


@dataclass(frozen=True)
class _Grant:
    outcome: str
    selling_partner_id: str


def selling_partner_id_for(state: str) -> str:
    """Stable per connection: the service puts the connection id before the state's '.'."""
    digest = hashlib.sha256(state.split(".", 1)[0].encode()).digest()
    return "A" + base64.b32encode(digest).decode()[:13]


def _is_id(value: str) -> bool:
    return value.isascii() and value.isalnum() and len(value) <= 32


def _mint(prefix: str, grant: _Grant) -> str:
    return f"{prefix}sbx.{grant.outcome}.{grant.selling_partner_id}.{secrets.token_urlsafe(24)}"


def _read(value: str | None, prefix: str) -> _Grant | None:
    if not value or not value.startswith(f"{prefix}sbx."):
        return None
    parts = value[len(prefix) :].split(".")
    if len(parts) != 4 or parts[1] not in SANDBOX_OUTCOMES or not _is_id(parts[2]):
        return None
    return _Grant(parts[1], parts[2])


# Pages and redirects


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>body{{font:16px system-ui,sans-serif;"
        "max-width:44rem;margin:2rem auto;padding:0 1rem}li{margin:.4rem 0}"
        "a{font-weight:600}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(document, status_code=status, media_type="text/html")


def _picker(request: Request, title: str, outcomes: tuple[str, ...]) -> Response[str]:
    query = dict(request.query_params)
    items = "".join(
        f'<li><a href="?{html.escape(urlencode({**query, "sandbox_outcome": outcome}))}">'
        f"{html.escape(outcome)}</a> — {html.escape(SANDBOX_OUTCOMES[outcome])}</li>"
        for outcome in outcomes
    )
    intro = "<p>This is the sandbox Amazon. Pick what the account owner meets:</p>"
    return _page(title, f"{intro}<ul>{items}</ul>")


def _redirect(target: str, params: dict[str, str]) -> Redirect:
    scheme, netloc, path, query, fragment = urlsplit(target)
    merged = urlencode([*parse_qsl(query), *params.items()])
    return Redirect(path=urlunsplit((scheme, netloc, path, merged, fragment)), status_code=302)


def _consent_problem(
    region: str,
    outcome: str | None,
    allowed: tuple[str, ...],
    partner: str | None,
    redirect_uri: str,
) -> Response[str] | None:
    if region not in REGIONS:
        return _page("Unknown region", f"<p>{html.escape(region)} is not na, eu or fe.</p>", 404)
    if outcome is not None and outcome not in allowed:
        choices = html.escape(", ".join(allowed))
        return _page("Unknown sandbox outcome", f"<p>Choose one of {choices}.</p>", 400)
    if partner is not None and not _is_id(partner):
        return _page("Bad selling partner id", "<p>Use letters and digits only.</p>", 400)
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        return _page("Bad redirect URI", "<p>The redirect URI must be http(s).</p>", 400)
    return None


def _unregistered(target: str, registered: str) -> Response[str] | None:
    """Like Amazon, redirect only to the URI registered for the app (no open redirect)."""
    if target != registered:
        return _page(
            "Redirect URI not registered",
            "<p>The redirect_uri does not match the application's registered one.</p>",
            400,
        )
    return None


# LWA token endpoint


def _lwa_error(status: int, error: str, description: str) -> Response[Any]:
    return Response(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"cache-control": "no-store"},
    )


def _token_answer(form: dict[str, str]) -> Response[Any]:
    if (form.get("client_id"), form.get("client_secret")) != (
        SANDBOX_LWA_CLIENT_ID,
        SANDBOX_LWA_CLIENT_SECRET,
    ):
        return _lwa_error(401, "invalid_client", "Client authentication failed")
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        grant = _read(form.get("code"), "")
        parameter = "code"
    elif grant_type == "refresh_token":
        grant = _read(form.get("refresh_token"), "Atzr|")
        parameter = "refresh_token"
    else:
        return _lwa_error(400, "unsupported_grant_type", "The grant type is not supported")
    if grant is None:
        return _lwa_error(
            400, "invalid_grant", f"The request has an invalid grant parameter : {parameter}"
        )
    if grant.outcome == "AMAZON_UNAVAILABLE":
        return _lwa_error(503, "temporarily_unavailable", "The service is temporarily overloaded")
    if parameter == "code" and grant.outcome == "AUTHORIZATION_EXPIRED":
        return _lwa_error(400, "invalid_grant", "The authorization code has expired or was used")
    if parameter == "code" and grant.outcome == "TOKEN_EXCHANGE_FAILED":
        return _lwa_error(
            400, "invalid_request", "The request has an invalid parameter : redirect_uri"
        )
    if parameter == "refresh_token" and grant.outcome == "ACCESS_REVOKED":
        return _lwa_error(400, "invalid_grant", "The refresh token is invalid or was revoked")
    if parameter == "refresh_token":
        refresh_token = form["refresh_token"]
    else:
        refresh_token = _mint("Atzr|", grant)
    return Response(
        {
            "access_token": _mint("Atza|", grant),
            "refresh_token": refresh_token,
            "token_type": "bearer",
            "expires_in": 3600,
        },
        status_code=200,
        headers={"cache-control": "no-store"},
    )


# Sellers API


def _sp_answer(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(body, status_code=status, headers={"x-amzn-RequestId": str(uuid.uuid4())})


def _sp_grant(region: str, token: str | None) -> _Grant | Response[Any]:
    """The grant behind an SP-API access token, or Amazon's refusal."""
    if region not in REGIONS:
        error = {"code": "NotFound", "message": "Resource not found."}
        return _sp_answer(404, {"errors": [error]})
    grant = _read(token, "Atza|")
    if grant is None:
        error = {
            "code": "Unauthorized",
            "message": "Access to requested resource is denied.",
            "details": "The access token you provided is revoked, malformed or invalid.",
        }
        return _sp_answer(403, {"errors": [error]})
    return grant


def _marketplace(entry: tuple[str, str, str, str, str]) -> dict[str, str]:
    marketplace_id, country, currency, language, domain = entry
    return {
        "id": marketplace_id,
        "name": "Amazon" + domain.removeprefix("www.amazon"),
        "countryCode": country,
        "defaultCurrencyCode": currency,
        "defaultLanguageCode": language,
        "domainName": domain,
    }


def _participations(region: str, outcome: str) -> list[dict[str, Any]]:
    if outcome == "MARKETPLACE_NOT_PARTICIPATING":
        marketplaces = _MARKETPLACES[_ELSEWHERE[region]][:1]
    else:
        marketplaces = _MARKETPLACES[region]
    participating, suspended = {
        "ACCOUNT_DEACTIVATED": (False, True),
        "ACCOUNT_UNDER_REVIEW": (False, False),
        "ACCOUNT_IN_STAGING": (True, True),
    }.get(outcome, (True, False))
    return [
        {
            "marketplace": _marketplace(entry),
            "participation": {"isParticipating": participating, "hasSuspendedListings": suspended},
        }
        for entry in marketplaces
    ]


def _account(region: str, grant: _Grant) -> dict[str, Any]:
    participations = _participations(region, grant.outcome)
    country = participations[0]["marketplace"]["countryCode"]
    address = {"addressLine1": "1 Sandbox Way", "city": "Sandbox City", "countryCode": country}
    account: dict[str, Any] = {
        "marketplaceParticipationList": [
            {**entry, "storeName": f"Sandbox Store {grant.selling_partner_id}"}
            for entry in participations
        ],
        "businessType": "PRIVATE_LIMITED",
        "sellingPlan": (
            "INDIVIDUAL" if grant.outcome == "NOT_PROFESSIONAL_ACCOUNT" else "PROFESSIONAL"
        ),
        "primaryContact": {"name": "Sandbox Owner", "address": address},
    }
    if grant.outcome != "ACCOUNT_SETUP_INCOMPLETE":
        account["business"] = {
            "name": "Sandbox Trading Ltd",
            "registeredBusinessAddress": address,
        }
    return account


# Ads API


def _ads_profiles(region: str, grant: _Grant) -> list[dict[str, Any]]:
    if grant.outcome == "ADVERTISING_NOT_ENABLED":
        return []
    account_id = grant.selling_partner_id
    if grant.outcome == "ADVERTISING_ACCOUNT_MISMATCH":
        account_id = selling_partner_id_for(f"another-seller-{account_id}")
    profiles = []
    for marketplace_id, country, currency, _, _ in _MARKETPLACES[region]:
        digest = hashlib.sha256(f"{account_id}:{marketplace_id}".encode()).digest()
        profiles.append(
            {
                "profileId": int.from_bytes(digest[:6], "big"),
                "countryCode": country,
                "currencyCode": currency,
                "accountInfo": {
                    "marketplaceStringId": marketplace_id,
                    "id": account_id,
                    "type": "seller",
                    "name": f"Sandbox Store {account_id}",
                    "validPaymentMethod": True,
                },
            }
        )
    return profiles


def build_sandbox_router(default_redirect_uri: str, default_ads_redirect_uri: str) -> Router:
    """The sandbox's routes; redirects go to these URIs unless the consent URL names one."""

    @get("/{region:str}/apps/authorize/consent", sync_to_thread=False)
    def sp_consent(
        request: Request,
        region: FromPath[str],
        application_id: FromQuery[str],
        oauth_state: Annotated[str, QueryParameter(name="state")],
        redirect_uri: FromQuery[str | None] = None,
        sandbox_outcome: FromQuery[str | None] = None,
        sandbox_selling_partner_id: FromQuery[str | None] = None,
    ) -> Response[Any]:
        target = redirect_uri or default_redirect_uri
        problem = _unregistered(target, default_redirect_uri) or _consent_problem(
            region, sandbox_outcome, SP_OUTCOMES, sandbox_selling_partner_id, target
        )
        if problem is not None:
            return problem
        if application_id != SANDBOX_APPLICATION_ID:
            return _page("Unknown application", "<p>This application_id is unknown.</p>", 400)
        if sandbox_outcome is None:
            return _picker(request, "Authorize the sandbox app (Seller Central)", SP_OUTCOMES)
        if sandbox_outcome in _REDIRECT_ERRORS:
            error, description = _REDIRECT_ERRORS[sandbox_outcome]
            return _redirect(
                target, {"state": oauth_state, "error": error, "error_description": description}
            )
        partner = sandbox_selling_partner_id or selling_partner_id_for(oauth_state)
        return _redirect(
            target,
            {
                "state": oauth_state,
                "selling_partner_id": partner,
                "mws_auth_token": f"amzn.mws.{uuid.uuid4()}",
                "spapi_oauth_code": _mint("", _Grant(sandbox_outcome, partner)),
            },
        )

    @get("/ads/{region:str}/ap/oa", sync_to_thread=False)
    def ads_consent(
        request: Request,
        region: FromPath[str],
        client_id: FromQuery[str],
        response_type: FromQuery[str],
        oauth_scope: Annotated[str, QueryParameter(name="scope")],
        oauth_state: Annotated[str, QueryParameter(name="state")] = "",
        redirect_uri: FromQuery[str | None] = None,
        sandbox_outcome: FromQuery[str | None] = None,
        sandbox_selling_partner_id: FromQuery[str | None] = None,
    ) -> Response[Any]:
        target = redirect_uri or default_ads_redirect_uri
        problem = _unregistered(target, default_ads_redirect_uri) or _consent_problem(
            region, sandbox_outcome, ADS_OUTCOMES, sandbox_selling_partner_id, target
        )
        if problem is not None:
            return problem
        if client_id != SANDBOX_LWA_CLIENT_ID:
            return _page("Unknown client", "<p>This client_id is not registered.</p>", 400)
        if response_type != "code":
            return _redirect(target, {"state": oauth_state, "error": "unsupported_response_type"})
        if oauth_scope != ADS_SCOPE:
            return _redirect(target, {"state": oauth_state, "error": "invalid_scope"})
        if sandbox_outcome is None:
            return _picker(request, "Authorize the sandbox app (Amazon Ads)", ADS_OUTCOMES)
        partner = sandbox_selling_partner_id or selling_partner_id_for(oauth_state)
        code = _mint("", _Grant(sandbox_outcome, partner))
        return _redirect(target, {"code": code, "scope": ADS_SCOPE, "state": oauth_state})

    @post("/auth/o2/token")
    async def token(request: Request) -> Response[Any]:
        form = await request.form()
        return _token_answer({key: str(value) for key, value in form.items()})

    @get("/{region:str}/sellers/v1/marketplaceParticipations", sync_to_thread=False)
    def marketplace_participations(request: Request, region: FromPath[str]) -> Response[Any]:
        grant = _sp_grant(region, request.headers.get("x-amz-access-token"))
        if isinstance(grant, Response):
            return grant
        return _sp_answer(200, {"payload": _participations(region, grant.outcome)})

    @get("/{region:str}/sellers/v1/account", sync_to_thread=False)
    def account(request: Request, region: FromPath[str]) -> Response[Any]:
        grant = _sp_grant(region, request.headers.get("x-amz-access-token"))
        if isinstance(grant, Response):
            return grant
        return _sp_answer(200, {"payload": _account(region, grant)})

    @get("/ads/{region:str}/v2/profiles", sync_to_thread=False)
    def profiles(request: Request, region: FromPath[str]) -> Response[Any]:
        if region not in REGIONS:
            return Response({"code": "NOT_FOUND", "details": "Unknown region"}, status_code=404)
        authorization = request.headers.get("authorization", "")
        grant = _read(authorization.removeprefix("Bearer "), "Atza|")
        client_id = request.headers.get("amazon-advertising-api-clientid")
        if grant is None or client_id != SANDBOX_LWA_CLIENT_ID:
            return Response(
                {"code": "UNAUTHORIZED", "details": "Not authorized to access this advertiser"},
                status_code=401,
            )
        return Response(_ads_profiles(region, grant), status_code=200)

    return Router(
        path="/sandbox/amazon",
        route_handlers=[
            sp_consent,
            ads_consent,
            token,
            marketplace_participations,
            account,
            profiles,
        ],
        include_in_schema=False,
    )


_PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
sandbox_router = build_sandbox_router(
    f"{_PUBLIC_BASE_URL}/v1/oauth/amazon/callback",
    f"{_PUBLIC_BASE_URL}/v1/oauth/amazon-ads/callback",
)

"""Login with Amazon's token endpoint: authorization codes and refresh tokens in, tokens out.

LWA answers errors as JSON `{"error": ..., "error_description": ...}` (RFC 6749 §5.2; Login
with Amazon, "Authorization Code Grant" > Access Token Errors,
developer.amazon.com/docs/login-with-amazon/authorization-code-grant.html).
`invalid_grant` names the grant that failed: an authorization code lives 5 minutes and is
single-use (SP-API developer guide, website authorization workflow, Step 3), so on a code it
means "start again"; on a refresh token it means the owner (or Amazon's yearly
re-confirmation) took the access away. `invalid_client` and `unauthorized_client` are the
integrator's own app credentials (a wrong or expired client secret, a client not allowed the
grant): never the seller's doing. Any other error is our request.

A code exchange is not idempotent: once the request may have reached LWA it is never sent
again (see `retries.send`), and the caller learns that the outcome is unknown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx

from adapters.amazon.errors import AmazonError
from adapters.amazon.retries import send
from adapters.amazon.settings import AmazonSettings

log = logging.getLogger(__name__)

# LWA's answers that blame the client (the integrator's app), not the grant.
APP_CREDENTIAL_ERRORS = frozenset({"invalid_client", "unauthorized_client"})


@dataclass(frozen=True)
class Tokens:
    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    expires_in: int


def exchange_code(
    http: httpx.Client,
    settings: AmazonSettings,
    code: str,
    *,
    credentials: tuple[str, str],
    redirect_uri: str | None,
    older_secrets: tuple[str, ...] = (),
    token_url: str | None = None,
) -> Tokens:
    form = {"grant_type": "authorization_code", "code": code}
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    return _request_tokens(
        http,
        settings,
        form,
        credentials,
        on_invalid_grant="AUTHORIZATION_EXPIRED",
        older_secrets=older_secrets,
        token_url=token_url,
        single_use=True,
    )


def refresh(
    http: httpx.Client,
    settings: AmazonSettings,
    refresh_token: str,
    *,
    credentials: tuple[str, str],
    older_secrets: tuple[str, ...] = (),
    token_url: str | None = None,
) -> Tokens:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _request_tokens(
        http,
        settings,
        form,
        credentials,
        on_invalid_grant="ACCESS_REVOKED",
        older_secrets=older_secrets,
        token_url=token_url,
    )


def _request_tokens(
    http: httpx.Client,
    settings: AmazonSettings,
    form: dict[str, str],
    credentials: tuple[str, str],
    *,
    on_invalid_grant: str,
    older_secrets: tuple[str, ...] = (),
    token_url: str | None = None,
    single_use: bool = False,
) -> Tokens:
    operation = f"LWA token ({form['grant_type']})"
    client_id, client_secret = credentials
    # New secret first; an older one only while LWA refuses the client (rotation overlap).
    # invalid_client is LWA refusing before it looks at the grant, so a single-use code is
    # still unspent when it is sent again with the next secret.
    candidates = (client_secret, *(s for s in older_secrets if s and s != client_secret))
    for number, secret in enumerate(candidates, start=1):
        response = send(
            http,
            settings,
            "POST",
            token_url or settings.lwa_token_url,
            operation=operation,
            data={**form, "client_id": client_id, "client_secret": secret},
            headers={"accept": "application/json"},
            resend_after_sent=not single_use,
        )
        if response.status_code == 200:
            if number > 1:
                log.warning(
                    "amazon %s: LWA accepted client secret %d of %d, not the newest: "
                    "finish the rotation (LWA_CLIENT_SECRETS)",
                    operation,
                    number,
                    len(candidates),
                )
            return _tokens(response, operation, previous_refresh_token=form.get("refresh_token"))
        error, description = _error_body(response)
        if error != "invalid_client":
            break
    detail = f"{operation}: HTTP {response.status_code} {error}: {description}"
    raise AmazonError(_code_of(error, on_invalid_grant), detail)


def _code_of(error: str, on_invalid_grant: str) -> str:
    if error == "invalid_grant":
        return on_invalid_grant
    if error in APP_CREDENTIAL_ERRORS:
        return "APP_CREDENTIALS_INVALID"
    return "TOKEN_EXCHANGE_FAILED"


def _tokens(
    response: httpx.Response, operation: str, *, previous_refresh_token: str | None
) -> Tokens:
    try:
        body = response.json()
        access_token = body["access_token"]
        # A refresh answer may omit the refresh token; the one we sent stays valid.
        refresh_token = body.get("refresh_token") or previous_refresh_token
        expires_in = int(body.get("expires_in", 3600))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise AmazonError("TOKEN_EXCHANGE_FAILED", f"{operation}: malformed answer") from None
    if not (isinstance(access_token, str) and access_token):
        raise AmazonError("TOKEN_EXCHANGE_FAILED", f"{operation}: no access token")
    if not (isinstance(refresh_token, str) and refresh_token):
        raise AmazonError("TOKEN_EXCHANGE_FAILED", f"{operation}: no refresh token")
    return Tokens(refresh_token=refresh_token, access_token=access_token, expires_in=expires_in)


def _error_body(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
        error = str(body.get("error") or "unknown_error")
        description = str(body.get("error_description") or "")
    except (ValueError, AttributeError):
        return "unknown_error", "non-JSON error body"
    return error, description[:200]

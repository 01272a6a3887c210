"""Login with Amazon's token endpoint: authorization codes and refresh tokens in, tokens out.

LWA answers errors as JSON `{"error": ..., "error_description": ...}` (RFC 6749 §5.2).
`invalid_grant` names the grant that failed: an authorization code lives 5 minutes and is
single-use, so on a code it means "start again"; on a refresh token it means the owner (or
Amazon's yearly re-confirmation) took the access away. Any other error is our request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from adapters.amazon.errors import AmazonError
from adapters.amazon.retries import send
from adapters.amazon.settings import AmazonSettings


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
) -> Tokens:
    form = {"grant_type": "authorization_code", "code": code}
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    return _request_tokens(
        http, settings, form, credentials, on_invalid_grant="AUTHORIZATION_EXPIRED"
    )


def refresh(
    http: httpx.Client,
    settings: AmazonSettings,
    refresh_token: str,
    *,
    credentials: tuple[str, str],
) -> Tokens:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _request_tokens(http, settings, form, credentials, on_invalid_grant="ACCESS_REVOKED")


def _request_tokens(
    http: httpx.Client,
    settings: AmazonSettings,
    form: dict[str, str],
    credentials: tuple[str, str],
    *,
    on_invalid_grant: str,
) -> Tokens:
    operation = f"LWA token ({form['grant_type']})"
    client_id, client_secret = credentials
    form = {**form, "client_id": client_id, "client_secret": client_secret}
    response = send(
        http,
        settings,
        "POST",
        settings.lwa_token_url,
        operation=operation,
        data=form,
        headers={"accept": "application/json"},
    )
    if response.status_code != 200:
        error, description = _error_body(response)
        code = on_invalid_grant if error == "invalid_grant" else "TOKEN_EXCHANGE_FAILED"
        detail = f"{operation}: HTTP {response.status_code} {error}: {description}"
        raise AmazonError(code, detail)
    return _tokens(response, operation, previous_refresh_token=form.get("refresh_token"))


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

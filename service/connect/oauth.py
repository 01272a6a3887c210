"""Amazon consent: signed `state` values and the two OAuth callbacks.

`state` is `<connection id>.<signed payload>`: the payload names the connection, the
attempt and the flow, and is signed with the service's key. It is single use because the
aggregate keeps only the open attempt: once completed, failed or replaced, the same state
matches nothing. A tampered, replayed, expired or foreign state records nothing on any
connection (an expired attempt's own deadline moves it back to `invited`).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from adapters.amazon import AmazonClient, AmazonError
from adapters.crypto import SecretBox, Signer
from domain import lifecycle as lc
from domain.connection import Connection
from domain.exceptions import DomainError, NotFound
from domain.seller_claims import SellingPartnerAlreadyConnected
from service.api.caller import Caller
from service.api.edge.text import SELLING_PARTNER_ID_PATTERN, sanitised
from service.connections.service import ConnectionService

log = logging.getLogger(__name__)

SPAPI, REAUTH, ADS = "spapi", "reauth", "ads"
LOGIN = "login"  # started at Amazon (the Login URI): nothing recorded until the callback

_SELLING_PARTNER_ID = re.compile(SELLING_PARTNER_ID_PATTERN)


class InvalidState(DomainError):
    """The `state` is not one this service issued for an open attempt."""

    code = "AUTHORIZATION_EXPIRED"


@dataclass(frozen=True)
class CallbackResult:
    connection: Connection
    succeeded: bool
    error: dict[str, Any] | None

    def redirect_url(self) -> str | None:
        if not self.connection.return_url:
            return None
        params = {
            "connection_id": str(self.connection.id),
            "state": self.connection.state,
            "status": "succeeded" if self.succeeded else "failed",
        }
        if self.error:
            params["error_code"] = self.error["code"]
        separator = "&" if "?" in self.connection.return_url else "?"
        return f"{self.connection.return_url}{separator}{urlencode(params)}"


class Consent:
    """Builds consent URLs; the state's lifetime is the attempt's window."""

    def __init__(self, amazon: AmazonClient, signer: Signer) -> None:
        self.amazon = amazon
        self.signer = signer

    def state(self, c: Connection, attempt: str, kind: str, expires_at: datetime) -> str:
        payload = {"c": str(c.id), "a": attempt, "k": kind, "x": int(expires_at.timestamp())}
        return f"{c.id}.{self.signer.sign(payload)}"

    def spapi_url(self, c: Connection, attempt: str, expires_at: datetime) -> str:
        kind = REAUTH if c.state == lc.REAUTH_DUE else SPAPI
        return self.amazon.consent_url(
            c.region,
            self.state(c, attempt, kind, expires_at),
            marketplace_id=c.marketplace_ids[0] if c.marketplace_ids else None,
            account_type=c.account_type,
        )

    def ads_url(self, c: Connection, attempt: str, expires_at: datetime) -> str:
        return self.amazon.ads_consent_url(c.region, self.state(c, attempt, ADS, expires_at))

    def login_state(self, c: Connection, selling_partner_id: str, expires_at: datetime) -> str:
        """For the Login URI: names the connection at its current version (any event since
        voids it) and the selling partner Amazon's callback must confirm."""
        payload = {
            "c": str(c.id),
            "a": secrets.token_urlsafe(12),
            "k": LOGIN,
            "v": c.version,
            "s": selling_partner_id,
            "x": int(expires_at.timestamp()),
        }
        return f"{c.id}.{self.signer.sign(payload)}"

    def parse(self, state: str) -> dict[str, Any]:
        connection_id, _, signed = state.partition(".")
        payload = self.signer.unsign(signed)
        if payload is None or payload.get("c") != connection_id:
            raise InvalidState(
                "This authorization link is not valid. Start the connection "
                "again from the integrator's page."
            )
        return payload


class OAuthCallbacks:
    def __init__(
        self, service: ConnectionService, consent: Consent, amazon: AmazonClient, box: SecretBox
    ) -> None:
        self.service = service
        self.consent = consent
        self.amazon = amazon
        self.box = box

    def _open(
        self, state: str, kinds: tuple[str, ...], request_id: str | None
    ) -> tuple[Connection, dict[str, Any], Caller, bool]:
        """The connection and payload of a valid state; whether its window is still open."""
        payload = self.consent.parse(state)
        if payload["k"] not in kinds:
            raise InvalidState("This authorization link belongs to another consent flow.")
        try:
            connection = self.service.app.load_without_tenant_check(payload["c"])
        except NotFound:
            raise InvalidState("This authorization link names no connection.") from None
        caller = Caller(tenant_id=connection.tenant_id, actor="owner", request_id=request_id)
        now = self.service.clock.now()
        open_attempt = (
            connection.advertising_authorization
            if payload["k"] == ADS
            else connection.authorization
        )
        if not open_attempt or open_attempt["attempt_id"] != payload["a"]:
            raise InvalidState(
                "This authorization link was already used or replaced by a "
                "newer one. Start the connection again."
            )
        return connection, payload, caller, now < open_attempt["expires_at"]

    def _open_login(
        self, state: str, params: dict[str, str | None], request_id: str | None
    ) -> tuple[Connection, dict[str, Any], Caller, bool]:
        """A state the Login URI issued: the re-authorization is recorded (started, then
        completed or failed below) only once Amazon's redirect names the selling partner
        the connection belongs to; a forged or foreign one records nothing."""
        payload = self.consent.parse(state)
        try:
            c = self.service.app.load_without_tenant_check(payload["c"])
        except NotFound:
            raise InvalidState("This authorization link names no connection.") from None
        now = self.service.clock.now()
        if payload.get("v") != c.version or c.state not in lc.RENEWABLE_STATES:
            raise InvalidState(
                "This re-authorization link was already used, or the connection changed "
                "since. Start again from Manage Your Apps in Seller Central."
            )
        if now.timestamp() >= payload["x"]:
            raise InvalidState("The 15-minute window to finish the re-authorization passed.")
        if params.get("error"):
            code = self.amazon.callback_error_code(
                params["error"] or "", params.get("error_description")
            )
            raise DomainError(
                sanitised(params.get("error_description") or params["error"] or ""), code=code
            )
        spid = params.get("selling_partner_id")
        if spid != payload["s"] or spid != c.selling_partner_id:
            raise DomainError(
                "The Amazon account that approved is not the one this connection belongs to; "
                "nothing was changed. Sign in to Amazon with the connected seller account.",
                code="SELLING_PARTNER_MISMATCH",
            )
        caller = Caller(tenant_id=c.tenant_id, actor="owner", request_id=request_id)
        if c.state == lc.REAUTH_DUE:
            expires_at = datetime.fromtimestamp(payload["x"], UTC)
            c.start_reauthorization(self.service.context(caller), payload["a"], expires_at)
        # An `active` connection's renewal opens no attempt: the state's version is its
        # single use, and completing or failing keeps the connection `active`.
        return c, {**payload, "k": REAUTH}, caller, True

    def spapi(self, params: dict[str, str | None], request_id: str | None) -> CallbackResult:
        state = params.get("state") or ""
        if self.consent.parse(state).get("k") == LOGIN:
            c, payload, caller, in_window = self._open_login(state, params, request_id)
        else:
            c, payload, caller, in_window = self._open(state, (SPAPI, REAUTH), request_id)
        if not in_window:
            # Changes nothing: the window's own deadline records the expiry.
            raise InvalidState("The 15-minute window to finish the Amazon consent passed.")
        ctx = self.service.context(caller)
        reauth = payload["k"] == REAUTH
        fail = c.fail_reauthorization if reauth else c.fail_authorization
        try:
            if params.get("error"):
                code = self.amazon.callback_error_code(
                    params["error"] or "", params.get("error_description")
                )
                raise AmazonError(code, params.get("error_description") or params["error"] or "")
            spid, code = params.get("selling_partner_id"), params.get("spapi_oauth_code")
            if spid is not None and not _SELLING_PARTNER_ID.fullmatch(spid):
                raise AmazonError(
                    "TOKEN_EXCHANGE_FAILED",
                    "Amazon's redirect carried no valid selling partner id.",
                )
            if not spid or not code:
                raise AmazonError(
                    "TOKEN_EXCHANGE_FAILED", "Amazon's redirect carried no authorization code."
                )
            tokens = self.amazon.exchange_code(code)
            warnings = self.amazon.check_account(
                tokens.access_token, c.region, list(c.marketplace_ids), selling_partner_id=spid
            )
            encrypted = self.box.encrypt(tokens.refresh_token)
            if reauth:
                c.complete_reauthorization(
                    ctx,
                    selling_partner_id=spid,
                    refresh_token_encrypted=encrypted,
                    durations=self.service.durations,
                )
            else:
                other = self.service.fresh_view().connected_elsewhere(c.tenant_id, spid, str(c.id))
                if other:
                    raise AmazonError(
                        "SELLING_PARTNER_ALREADY_CONNECTED",
                        f"Selling partner {spid} is already connected (connection {other}).",
                    )
                c.complete_authorization(
                    ctx,
                    selling_partner_id=spid,
                    refresh_token_encrypted=encrypted,
                    durations=self.service.durations,
                )
            for warning_code, detail in warnings:
                c.record_warning(ctx, warning_code, detail)
        except (AmazonError, DomainError) as e:
            # Amazon's texts (error_description, LWA's answers) are kept for good: one
            # line, no control or format characters, capped.
            fail(ctx, e.code, sanitised(e.detail))
        try:
            self.service.save(c)
        except SellingPartnerAlreadyConnected as e:
            # Another connection of the tenant took this seller since the read above (the
            # store keeps one holder per seller): this attempt fails as that read would.
            c = self.service.app.load_without_tenant_check(c.id)
            c.fail_authorization(ctx, e.code, e.detail)
            self.service.save(c)
        return CallbackResult(c, succeeded=c.last_error is None, error=c.last_error)

    def ads(self, params: dict[str, str | None], request_id: str | None) -> CallbackResult:
        c, _, caller, in_window = self._open(params.get("state") or "", (ADS,), request_id)
        if not in_window:
            raise InvalidState("The 15-minute window to finish the Amazon Ads consent passed.")
        ctx = self.service.context(caller)
        try:
            if params.get("error"):
                code = self.amazon.callback_error_code(
                    params["error"] or "", params.get("error_description")
                )
                raise AmazonError(code, params.get("error_description") or params["error"] or "")
            if not params.get("code"):
                raise AmazonError(
                    "TOKEN_EXCHANGE_FAILED", "Amazon's redirect carried no authorization code."
                )
            tokens = self.amazon.exchange_ads_code(params["code"] or "", c.region)
            profiles = self.amazon.check_advertising(
                tokens.access_token, c.region, list(c.marketplace_ids), c.selling_partner_id or ""
            )
            c.complete_advertising_authorization(
                ctx,
                profiles[0].profile_id,
                self.box.encrypt(tokens.refresh_token),
                [
                    {
                        "profile_id": p.profile_id,
                        "marketplace_id": p.marketplace_id,
                        "country_code": p.country_code,
                        "account_type": p.account_type,
                    }
                    for p in profiles
                ],
            )
        except AmazonError as e:
            c.fail_advertising_authorization(ctx, e.code, sanitised(e.detail))
        self.service.save(c)
        return CallbackResult(c, succeeded=c.advertising == "connected", error=c.last_error)

"""Importing an authorization made elsewhere (SPEC §9): the integrator's old tables, another
platform. Nothing is recorded until Amazon has accepted the refresh token and the account
checks pass; then the connection is created already `api_authorized`, its yearly clock
running from when the owner authorized."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.amazon.errors import AmazonError
from domain.connection import Connection
from domain.exceptions import DomainError, ValidationFailed
from domain.origins import check_return_url
from domain.seller_claims import SellingPartnerAlreadyConnected
from service.api.caller import Caller
from service.credentials.outcomes import RETRY_AFTER

_UNAVAILABLE = frozenset({"AMAZON_UNAVAILABLE", "APP_CREDENTIALS_INVALID"})


class Imports:
    def __init__(self, services: Any) -> None:
        self.services = services

    def run(
        self,
        caller: Caller,
        spec: dict[str, Any],
        *,
        selling_partner_id: str,
        refresh_token: str,
        authorized_at: datetime | None,
    ) -> Connection:
        services = self.services
        service = services.connections
        if spec.get("return_url") is not None:
            check_return_url(spec["return_url"], service.origins(caller.tenant_id))
        ctx = service.context(caller)
        # The body is checked whole (marketplaces of the region…) before Amazon is asked.
        connection = Connection.invite(
            ctx, tenant_id=caller.tenant_id, durations=service.durations, **spec
        )
        other = service.fresh_view().connected_elsewhere(caller.tenant_id, selling_partner_id, "")
        if other:  # the store refuses it too (domain.seller_claims): this spares Amazon a call
            raise SellingPartnerAlreadyConnected(selling_partner_id, other)
        try:
            tokens = services.amazon.refresh(refresh_token)
        except AmazonError as e:
            raise _refused(e, "refresh_token: LWA did not refresh it") from None
        try:
            services.amazon.check_account(
                tokens.access_token,
                spec["region"],
                list(spec["marketplace_ids"]),
                selling_partner_id,  # its own share of Amazon's rate, as after a consent
            )
        except AmazonError as e:
            raise _refused(e, "Amazon's account checks refused this seller") from None
        connection.import_authorization(
            ctx,
            selling_partner_id=selling_partner_id,
            refresh_token_encrypted=services.box.encrypt(tokens.refresh_token),
            authorized_at=authorized_at or ctx.at,
            durations=service.durations,
        )
        service.save(connection)  # both events in one commit, or none
        return connection


def _refused(e: AmazonError, failed: str) -> DomainError:
    if e.code == "ACCESS_REVOKED":
        return ValidationFailed(
            "refresh_token: Amazon refused it (invalid_grant): it was revoked, belongs to "
            "another application, or is not a refresh token. Nothing was recorded.",
            field="refresh_token",
        )
    if e.code in _UNAVAILABLE:
        return DomainError(
            f"Amazon could not check the refresh token now ({e.code}); nothing was "
            "recorded. Retry after the indicated delay.",
            code=e.code,
            headers={"Retry-After": RETRY_AFTER},
        )
    return DomainError(f"{failed}: {e.detail}. Nothing was recorded.", code=e.code)

"""What a refused refresh means for the connection, and what the caller is told.

- `invalid_grant` (ACCESS_REVOKED): the owner or Amazon took the access away. An active
  connection is marked `reauth_due` with ACCESS_REVOKED (SPEC §2: `mark_reauth_due` is a
  move from `active`); one not yet active records the same code as its warning. Either way
  once, and the caller gets 409. For the Ads API, the Advertising track fails instead.
- Amazon unreachable (AMAZON_UNAVAILABLE): 503 with Retry-After, and the connection's
  warning, recorded once per outage.
- The app's own credentials refused (APP_CREDENTIALS_INVALID, LWA `invalid_client`): the
  integrator's operators must act, not the seller: a metric, an error log, 503; nothing is
  recorded on the connection.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.amazon.errors import AmazonError
from adapters.credential_tables import AccessTokenTables
from domain import lifecycle as lc
from domain.access import ADS, AUTHORIZED_STATES, AccessRefused
from domain.connection import Connection, Context
from domain.exceptions import DomainError, VersionConflict
from service.credentials.metrics import APP_CREDENTIALS_FAILING

log = logging.getLogger(__name__)

ACTOR = "system:credentials"
RETRY_AFTER = "30"
_OPERATOR_CODES = frozenset({"APP_CREDENTIALS_INVALID"})
_ATTEMPTS = 20  # lost version races before giving up on recording


class Outcomes:
    def __init__(self, services: Any, tables: AccessTokenTables) -> None:
        self.services = services
        self.tables = tables

    def problem(self, code: str, detail: str) -> AccessRefused:
        if code == "ACCESS_REVOKED":
            return AccessRefused(
                "Amazon refused this connection's authorization (invalid_grant); the owner "
                "must re-authorize.",
                code=code,
                status=409,
            )
        if code in _OPERATOR_CODES:
            detail = "Amazon refused this service's app credentials; its operators must fix them."
        elif code == "AMAZON_UNAVAILABLE":
            detail = "Amazon's token endpoint is unavailable; retry after the indicated delay."
        else:
            detail = f"Amazon did not issue an access token: {detail}"
        return AccessRefused(detail, code=code, status=503, headers={"Retry-After": RETRY_AFTER})

    def succeeded(self, api: str) -> None:
        APP_CREDENTIALS_FAILING.labels(api).set(0)

    def refused(self, c: Connection, api: str, e: AmazonError, request_id: str | None) -> None:
        if e.code in _OPERATOR_CODES:
            APP_CREDENTIALS_FAILING.labels(api).set(1)
            log.error("LWA refused the app's %s credentials: %s", api, e.detail)
            return
        if e.code == "ACCESS_REVOKED":
            self.tables.forget(str(c.id))
            self._record(c.id, request_id, e, self._revoke_ads if api == ADS else self._revoke)
        elif e.code == "AMAZON_UNAVAILABLE":
            self._record(c.id, request_id, e, self._warn)
        else:
            log.error("refreshing %s's %s token failed: %s", c.id, api, e.detail)

    # Each returns False when there is nothing (more) to record.

    @staticmethod
    def _revoke(c: Connection, ctx: Context, e: AmazonError) -> bool:
        if c.access_revoked_at is not None or c.state not in AUTHORIZED_STATES:
            return False
        if c.state == lc.ACTIVE:
            c.mark_reauth_due(ctx, e.code, e.detail)
        else:
            c.record_warning(ctx, e.code, e.detail)
        return True

    @staticmethod
    def _revoke_ads(c: Connection, ctx: Context, e: AmazonError) -> bool:
        if c.advertising != "connected":
            return False
        c.fail_advertising_authorization(ctx, e.code, e.detail)
        return True

    @staticmethod
    def _warn(c: Connection, ctx: Context, e: AmazonError) -> bool:
        if c.warning is not None and c.warning["code"] == e.code:
            return False  # already warned during this outage
        if c.state not in AUTHORIZED_STATES:
            return False
        c.record_warning(ctx, e.code, e.detail)
        return True

    def _record(self, connection_id: UUID, request_id: str | None, e: AmazonError, act) -> None:
        for _ in range(_ATTEMPTS):
            c = self.services.app.load_without_tenant_check(connection_id)
            ctx = _context(c, self.services.clock.now(), request_id)
            try:
                if not act(c, ctx, e):
                    return
                self.services.connections.save(c)
                return
            except VersionConflict:
                continue
            except DomainError:
                log.exception("could not record %s on %s", e.code, connection_id)
                return


def _context(c: Connection, now: datetime, request_id: str | None) -> Context:
    # Never before the connection's last event, so the history stays in time order.
    return Context(
        actor=ACTOR, at=max(now, c.modified_on), request_id=request_id, correlation_id=request_id
    )

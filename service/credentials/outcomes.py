"""What a refused refresh means for the connection, and what the caller is told.

What a refusal records on the connection is domain.refusals' one rule, applied here for the
token path and for the worker's refresh check alike. What the caller is told:
- `invalid_grant` (ACCESS_REVOKED): 409; the connection's cached tokens are forgotten.
- Amazon unreachable (AMAZON_UNAVAILABLE): 503 with Retry-After.
- The app's own credentials refused (APP_CREDENTIALS_INVALID, LWA `invalid_client`): the
  integrator's operators must act, not the seller: a metric, an error log, 503; nothing is
  recorded on the connection.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from adapters.amazon.errors import AmazonError
from adapters.tables.access_tokens import AccessTokenTables
from domain.access import AccessRefused
from domain.connection import Connection, Context
from domain.exceptions import DomainError
from domain.refusals import REVOKED, UNAVAILABLE, consequence
from service.connections.conflicts import retry_on_conflict
from service.credentials.metrics import APP_CREDENTIALS_FAILING

log = logging.getLogger(__name__)

ACTOR = "system:credentials"
RETRY_AFTER = "30"
_OPERATOR_CODES = frozenset({"APP_CREDENTIALS_INVALID"})


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
            )
        if code in _OPERATOR_CODES:
            detail = "Amazon refused this service's app credentials; its operators must fix them."
        elif code == "AMAZON_UNAVAILABLE":
            detail = "Amazon's token endpoint is unavailable; retry after the indicated delay."
        else:
            detail = f"Amazon did not issue an access token: {detail}"
        return AccessRefused(
            detail, code=code, situation="token_request", headers={"Retry-After": RETRY_AFTER}
        )

    def succeeded(self, api: str) -> None:
        APP_CREDENTIALS_FAILING.labels(api).set(0)

    def refused(
        self,
        c: Connection,
        api: str,
        e: AmazonError,
        request_id: str | None,
        *,
        actor: str = ACTOR,
        at: datetime | None = None,
        outage_began: bool | None = None,
    ) -> int:
        """Records what the refusal means for the connection (domain.refusals), as
        `actor` at `at` (default: now); `outage_began` from whoever keeps track of
        outages. Returns how many commands it recorded (0 or 1)."""
        if e.code in _OPERATOR_CODES:
            APP_CREDENTIALS_FAILING.labels(api).set(1)
            log.error("LWA refused the app's %s credentials: %s", api, e.detail)
            return 0
        if e.code == REVOKED:
            self.tables.forget(str(c.id))  # its tokens died with the grant
        elif e.code != UNAVAILABLE:
            log.error("refreshing %s's %s token failed: %s", c.id, api, e.detail)
            return 0

        def record(fresh: Connection) -> str | None:
            command = consequence(fresh, api, e.code, outage_began)
            if command is not None:
                now = at or self.services.clock.now()
                getattr(fresh, command)(_context(fresh, now, actor, request_id), e.code, e.detail)
            return command

        try:
            done = retry_on_conflict(
                lambda: self.services.app.load_without_tenant_check(c.id),
                record,
                self.services.connections.save,
            )
        except DomainError:
            log.exception("could not record %s on %s", e.code, c.id)
            return 0
        return 0 if done is None else 1


def _context(c: Connection, now: datetime, actor: str, request_id: str | None) -> Context:
    # Never before the connection's last event, so the history stays in time order.
    return Context(
        actor=actor, at=max(now, c.modified_on), request_id=request_id, correlation_id=request_id
    )

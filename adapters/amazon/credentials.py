"""The health of the integrator's own Amazon app credentials, as this process has seen it.

Two things an operator must hear about before sellers do: LWA refusing the app's client
(`invalid_client`/`unauthorized_client`: a wrong or expired secret, APP_CREDENTIALS_INVALID),
and the client secret's rotation deadline coming close. Amazon requires a rotation every 180
days and warns 90 days ahead; past the deadline the app's calls fail ("Rotate your
Application's LWA Credentials", developer-docs.amazon.com/sp-api/docs/
rotating-your-apps-lwa-credentials). The service warns `WARN_BEFORE` ahead of the instant it
is told (LWA_CLIENT_SECRET_EXPIRES_AT) in /readyz, /metrics and the log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

WARN_BEFORE = timedelta(days=30)


class AppCredentials:
    def __init__(
        self,
        secret_expires_at: datetime | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.secret_expires_at = secret_expires_at
        self._clock = clock
        self._lock = threading.Lock()
        self._refused: dict[str, tuple[datetime, str]] = {}  # client -> (when, operation)

    def refused(self, client: str, operation: str, detail: str) -> None:
        with self._lock:
            self._refused[client] = (self._clock(), operation)
        log.error(
            "amazon %s: LWA refused the %s app credentials (%s); every consent and refresh "
            "fails until LWA_CLIENT_SECRETS is fixed (README: rotating the LWA client secret)",
            operation,
            client,
            detail,
        )

    def accepted(self, client: str) -> None:
        with self._lock:
            self._refused.pop(client, None)

    def refused_clients(self) -> list[str]:
        with self._lock:
            return sorted(self._refused)

    def seconds_to_expiry(self) -> float | None:
        if self.secret_expires_at is None:
            return None
        return (self.secret_expires_at - self._clock()).total_seconds()

    def expiring(self) -> bool:
        left = self.seconds_to_expiry()
        return left is not None and left <= WARN_BEFORE.total_seconds()

    def warnings(self) -> list[str]:
        found = []
        with self._lock:
            refused = dict(self._refused)
        for client, (when, operation) in sorted(refused.items()):
            found.append(
                f"LWA refused the {client} app credentials at {when.isoformat()} ({operation}): "
                "APP_CREDENTIALS_INVALID"
            )
        left = self.seconds_to_expiry()
        if left is not None and self.expiring():
            days = left / 86400
            found.append(
                f"the LWA client secret expires at {self.secret_expires_at.isoformat()}"
                + (f", in {days:.0f} days" if days >= 0 else ", and has expired")
                + ": rotate it (LWA_CLIENT_SECRETS)"
            )
        return found

    def status(self) -> dict[str, Any]:
        """For /readyz: a detail, never a reason to take the process out of service."""
        left = self.seconds_to_expiry()
        return {
            "app_credentials": "refused" if self.refused_clients() else "ok",
            "lwa_client_secret_expires_at": (
                self.secret_expires_at.isoformat() if self.secret_expires_at else None
            ),
            "lwa_client_secret_expires_in_days": None if left is None else int(left // 86400),
            "warnings": self.warnings(),
        }

    def log_expiry(self) -> None:
        if self.expiring():
            for warning in self.warnings():
                log.warning("amazon: %s", warning)

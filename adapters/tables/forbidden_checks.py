"""When the proxy last spent a refresh and a Sellers check on a connection after Amazon's 403
(migration 0010): shared by every process, so a deployment of any size spends at most one a
minute per connection (SPEC §12)."""

from __future__ import annotations

from adapters.tables.dialect import Dialect


class ForbiddenChecks:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def take(self, connection_id: str, at: str, checked_before: str) -> bool:
        """Marks the connection checked at `at`; False when a check was taken after
        `checked_before` (by this process or another). Compare-and-set in one statement."""
        rows = self.t.execute(
            "INSERT INTO {p}proxy_forbidden_checks (connection_id, checked_at) VALUES (?, ?) "
            "ON CONFLICT (connection_id) DO UPDATE SET checked_at = excluded.checked_at "
            "WHERE proxy_forbidden_checks.checked_at <= ? RETURNING connection_id",
            (connection_id, at, checked_before),
        )
        return bool(rows)

"""Using a connection (SPEC §9): fresh access tokens, the proxy to Amazon, imports of
authorizations made elsewhere, and the access log of every use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.tables.access_log import AccessLogTables
from adapters.tables.access_tokens import AccessTokenTables
from adapters.tables.forbidden_checks import ForbiddenChecks
from service.credentials.access_log import AccessLog
from service.credentials.memory import TokenMemory
from service.credentials.outcomes import Outcomes
from service.credentials.proxy import ForbiddenCooldown
from service.credentials.tokens import AccessTokens


@dataclass
class Credentials:
    tables: AccessTokenTables
    tokens: AccessTokens
    outcomes: Outcomes  # what a refused refresh records: the token path's and the worker's
    access_log: AccessLog
    forbidden: ForbiddenCooldown  # the proxy's 403 cool-down, shared through the store

    def watch(self) -> None:
        """Lets the token memory trust itself between changes other processes announce."""
        self.tokens.memory.watch()

    def close(self) -> None:
        self.tokens.memory.close()
        self.access_log.close()  # writes what is still buffered


def build_credentials(services: Any) -> Credentials:
    tables = AccessTokenTables(services.tables)
    memory = TokenMemory(services.app.recorder, tables, services.listener)
    # This process's own token changes reach its memory at once, not when PostgreSQL
    # echoes them (its commits: a listener the composition root registers).
    tables.on_change = memory.drop
    outcomes = Outcomes(services, tables)
    return Credentials(
        tables=tables,
        tokens=AccessTokens(services, tables, outcomes, memory),
        outcomes=outcomes,
        access_log=AccessLog(
            AccessLogTables(services.tables), services.clock, services.settings.access_log_retention
        ),
        forbidden=ForbiddenCooldown(ForbiddenChecks(services.tables), services.clock),
    )

"""Using a connection (SPEC §9): fresh access tokens, the proxy to Amazon, imports of
authorizations made elsewhere, and the access log of every use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.credential_tables import AccessTokenTables
from service.credentials.access_log import AccessLog
from service.credentials.outcomes import Outcomes
from service.credentials.tokens import AccessTokens


@dataclass
class Credentials:
    tables: AccessTokenTables
    tokens: AccessTokens
    access_log: AccessLog


def build_credentials(services: Any) -> Credentials:
    tables = AccessTokenTables(services.tables)
    return Credentials(
        tables=tables,
        tokens=AccessTokens(services, tables, Outcomes(services, tables)),
        access_log=AccessLog(tables, services.clock, services.settings.access_log_retention),
    )

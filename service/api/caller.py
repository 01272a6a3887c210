"""Who is calling: what every route, application service and log line knows of a request."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Caller:
    """Who is calling: a tenant's API key, the owner's browser, or the service itself."""

    tenant_id: str
    actor: str
    request_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    correlation_id: str | None = None

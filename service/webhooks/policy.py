"""The webhook rules, apart from the SQL that applies them: who receives an event, and
when an endpoint's failures disable it (SPEC §5)."""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.tables.instants import iso
from adapters.tables.webhook_endpoints import EndpointRow
from adapters.tables.webhook_outbox import EventRow

FAILING_LIMIT = timedelta(days=5)  # an endpoint failing this long is disabled


def subscribed(endpoint: EndpointRow, event_type: str) -> bool:
    return "*" in endpoint.event_types or event_type in endpoint.event_types


def receives(endpoint: EndpointRow, event: EventRow) -> bool:
    """An endpoint gets its tenant's subscribed events from its creation on, however far
    behind the outbox runs; older ones are what replay is for."""
    return (
        endpoint.tenant_id == event.tenant_id
        and subscribed(endpoint, event.type)
        and event.occurred_at >= endpoint.created_at
    )


def disabling(outcome: str, now: datetime) -> tuple[str, str] | None:
    """After an attempt: None when it succeeded (the failing streak ends); else the reason
    the endpoint is disabled for, and the start of a failing streak old enough for it
    (a 410 Gone disables at once)."""
    if outcome == "ok":
        return None
    at = iso(now) or ""
    if outcome == "gone":
        return "gone", at
    return "failing", iso(now - FAILING_LIMIT) or ""

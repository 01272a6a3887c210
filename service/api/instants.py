"""RFC 3339 instants in query parameters and bodies: one parser, one clear error."""

from datetime import datetime

from domain.exceptions import ValidationFailed
from service.api.edge.instants import BOUNDS, within_calendar


def instant(name: str, raw: str) -> datetime:
    try:
        at = datetime.fromisoformat(raw.upper())  # RFC 3339 allows a lower-case t and z
    except ValueError:
        raise ValidationFailed(
            f"{name} must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z."
        ) from None
    if at.tzinfo is None:
        raise ValidationFailed(f"{name} must include a time zone (Z or ±hh:mm).")
    if not within_calendar(at):
        raise ValidationFailed(f"{name} must be an instant {BOUNDS}.")
    return at


def optional_instant(name: str, raw: str | None) -> datetime | None:
    return None if raw is None else instant(name, raw)

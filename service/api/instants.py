"""RFC 3339 instants in query parameters and bodies: the edge's parser, one clear error."""

from datetime import datetime

from domain.exceptions import ValidationFailed
from service.api.edge.instants import BOUNDS, NotAnInstant, parse


def instant(name: str, raw: str) -> datetime:
    try:
        return parse(raw)
    except NotAnInstant as e:
        raise ValidationFailed(_MESSAGES[e.reason].format(name=name)) from None


_MESSAGES = {
    "format": "{name} must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z.",
    "zone": "{name} must include a time zone (Z or ±hh:mm).",
    "bounds": "{name} must be an instant " + BOUNDS + ".",
}


def optional_instant(name: str, raw: str | None) -> datetime | None:
    return None if raw is None else instant(name, raw)

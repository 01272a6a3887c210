"""Instants near the calendar's ends: refused at the edge, so no later conversion to UTC
or arithmetic (`9999-12-31T23:59:59-14:00` is past year 9999 in UTC; a deadline a day
later overflows) can raise in a handler, a store or the worker.

Every string that looks like an RFC 3339 timestamp, in any field or parameter, is held
to these bounds by the guard; `service.api.instants` and the CLI hold parsed ones to them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
BOUNDS = "between 0001-01-02T00:00:00Z and 9999-12-30T23:59:59Z"
_LOOKS_LIKE_AN_INSTANT = re.compile(r"\s*[+-]?\d{4,}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def within_calendar(at: datetime) -> bool:
    """Whether an aware instant lies safely inside the years 1-9999 in UTC."""
    try:
        return EARLIEST <= at.astimezone(UTC) <= LATEST
    except OverflowError:
        return False


def refusal(text: str) -> str | None:
    """Why a timestamp-shaped string names an instant too near the calendar's ends."""
    if not _LOOKS_LIKE_AN_INSTANT.match(text):
        return None
    try:
        at = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        return None  # not an instant after all: the field's own parsing answers
    if at.tzinfo is None or within_calendar(at):
        return None
    return f"must be an instant {BOUNDS}"

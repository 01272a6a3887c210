"""RFC 3339 instants: the one parser (`parse`), and the bounds it holds them to.

Instants near the calendar's ends are refused, so no later conversion to UTC or arithmetic
(`9999-12-31T23:59:59-14:00` is past year 9999 in UTC; a deadline a day later overflows)
can raise in a handler, a store or the worker. Every string that looks like an RFC 3339
timestamp, in any field or parameter, is held to these bounds by the guard (`refusal`);
`service.api.instants` (query parameters and bodies) and the CLI parse with `parse` and
word its refusals for their readers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
BOUNDS = "between 0001-01-02T00:00:00Z and 9999-12-30T23:59:59Z"
_LOOKS_LIKE_AN_INSTANT = re.compile(r"\s*[+-]?\d{4,}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


class NotAnInstant(ValueError):
    """Why a text names no instant we take: it is not a timestamp ("format"; `detail` says
    what is wrong when it looked like one, e.g. no such day), it has no offset ("zone"),
    or it lies too near the calendar's ends ("bounds")."""

    def __init__(self, reason: Literal["format", "zone", "bounds"], detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def parse(text: str) -> datetime:
    """The aware instant `text` names, e.g. 2026-01-31T12:00:00Z; NotAnInstant otherwise.

    RFC 3339 allows a lower-case t and z; what else `datetime.fromisoformat` reads (no
    seconds, a space for the T) is taken too, as the API always has.
    """
    try:
        at = datetime.fromisoformat(text.upper())
    except ValueError as e:
        raise NotAnInstant("format", str(e) if _LOOKS_LIKE_AN_INSTANT.match(text) else "") from None
    if at.tzinfo is None:
        raise NotAnInstant("zone")
    if not within_calendar(at):
        raise NotAnInstant("bounds")
    return at


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
        parse(text.strip())
    except NotAnInstant as e:
        # Not an instant after all, or one without an offset: the field's own parsing answers.
        return f"must be an instant {BOUNDS}" if e.reason == "bounds" else None
    return None

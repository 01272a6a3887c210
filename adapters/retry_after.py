"""`Retry-After` (RFC 9110 §10.2.3) read strictly: delta-seconds in ASCII digits, or an
HTTP date. Anything else means "not said", never an exception: the header comes from a
peer we do not control (`str.isdigit` accepts "²" and "٣", which `float` then refuses or
reads as a number the peer never wrote)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from `now` (default: the wall clock the peer's date is set by), at least 0."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)  # inf for absurd lengths, never an error
    try:
        at = parsedate_to_datetime(value)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return max(0.0, (at - (now or datetime.now(UTC))).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return None

"""How a table stores an instant: fixed-width ISO-8601 UTC text.

Every column holding a time is written with `iso()`, so string order is time order on
both stores: SQLite keeps the text, PostgreSQL stores `timestamptz` and reads it back as
this same text (`postgres`), and code may compare stored instants as strings.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(at: datetime | None) -> str | None:
    """Fixed-width UTC text, so string order is time order in both databases."""
    return None if at is None else at.astimezone(UTC).isoformat(timespec="microseconds")

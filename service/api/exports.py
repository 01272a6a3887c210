"""What every export shares: one CSV line at a time, so an export streams, and the columns
of an event (the audit export's and the console's alike)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any


def csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


EVENT_COLUMNS = [
    "id",
    "connection_id",
    "version",
    "type",
    "occurred_at",
    "actor",
    "request_id",
    "data",
]


def event_cells(event: dict[str, Any]) -> list[Any]:
    """An event's body as CSV cells, in EVENT_COLUMNS' order (`data` as compact JSON)."""
    return [
        *(event[c] for c in EVENT_COLUMNS[:-2]),
        event["request_id"] or "",
        json.dumps(event["data"], separators=(",", ":")),
    ]

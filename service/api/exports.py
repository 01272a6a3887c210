"""What every export shares: one CSV line at a time, so an export streams."""

from __future__ import annotations

import csv
import io
from typing import Any


def csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()

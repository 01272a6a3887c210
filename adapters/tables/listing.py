"""The one list-query builder: a page of a table's rows, picked by conditions, in a stable
order, after a cursor, at most `limit`.

Every list the API pages through (connections, the event feed, the access log, webhook
endpoints and deliveries) is this query; only its table, filters and order differ. A
filter whose value is None is absent, so callers pass what the request gave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.tables.dialect import Dialect


@dataclass
class Listing:
    select: str  # "SELECT … FROM {p}table", the rows a page is cut from
    order: str = ""
    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def where(self, condition: str, *values: Any) -> Listing:
        """`condition` with a `?` per value; left out when any value is None."""
        if all(v is not None for v in values):
            self.conditions.append(condition)
            self.params.extend(values)
        return self

    def within(self, column: str, start: str | None, end: str | None) -> Listing:
        """From `start` (included) to `end` (excluded), either end open when None."""
        return self.where(f"{column} >= ?", start).where(f"{column} < ?", end)

    def newest_first(self, at: str, id_: str, before: tuple[str, str] | None) -> Listing:
        """Newest first by (`at`, `id_`); `before` is the (at, id) of the previous page's
        last row, so rows written meanwhile neither repeat nor go missing."""
        self.order = f"{at} DESC, {id_} DESC"
        if before is None:
            return self
        return self.where(f"({at} < ? OR ({at} = ? AND {id_} < ?))", before[0], *before)

    def oldest_first(self, column: str, after: int) -> Listing:
        """In `column`'s order (a log position), from just after `after`."""
        self.order = column
        return self.where(f"{column} > ?", after)

    def page(self, tables: Dialect, limit: int) -> list[Any]:
        return tables.query(*self.statement(limit))

    def statement(self, limit: int) -> tuple[str, tuple[Any, ...]]:
        """The page's SQL (with `{p}` and `?`) and its parameters."""
        where = f" WHERE {' AND '.join(self.conditions)}" if self.conditions else ""
        return f"{self.select}{where} ORDER BY {self.order} LIMIT ?", (*self.params, limit)

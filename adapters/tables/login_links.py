"""The Login URI's continue links already used (migration 0009)."""

from __future__ import annotations

from adapters.tables.base import Tables


class SpentLoginLinks:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    def spend(self, mail_id: str, at: str) -> bool:
        """True for the first use of the link mailed as `mail_id`, False ever after."""
        rows = self.t.execute(
            "INSERT INTO {p}login_links_spent (mail_id, spent_at) VALUES (?, ?) "
            "ON CONFLICT (mail_id) DO NOTHING RETURNING mail_id",
            (mail_id, at),
        )
        return bool(rows)

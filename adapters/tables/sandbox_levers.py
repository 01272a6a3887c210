"""The sandbox Amazon's levers (migration 0008), shared by every process of a deployment."""

from __future__ import annotations

from adapters.tables.base import Tables


class SandboxLevers:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    def revoke(self, selling_partner_id: str) -> None:
        self.t.execute(
            "INSERT INTO {p}sandbox_levers (selling_partner_id, revoked) VALUES (?, 1) "
            "ON CONFLICT (selling_partner_id) DO UPDATE SET revoked = 1",
            (selling_partner_id,),
        )

    def is_revoked(self, selling_partner_id: str) -> bool:
        rows = self.t.query(
            "SELECT revoked FROM {p}sandbox_levers WHERE selling_partner_id = ?",
            (selling_partner_id,),
        )
        return bool(rows and rows[0]["revoked"])

    def throttle(self, selling_partner_id: str, count: int, rate: str, rate_on_429: bool) -> None:
        self.t.execute(
            "INSERT INTO {p}sandbox_levers "
            "(selling_partner_id, throttles_left, rate_on_429, rate) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (selling_partner_id) DO UPDATE SET "
            "throttles_left = excluded.throttles_left, rate_on_429 = excluded.rate_on_429, "
            "rate = excluded.rate",
            (selling_partner_id, count, int(rate_on_429), rate),
        )

    def take_throttle(self, selling_partner_id: str) -> tuple[str | None, bool] | None:
        """One of the 429s asked for, spent by whichever process answers first: (the rate,
        whether the 429 announces it); None when none is left."""
        rows = self.t.execute(
            "UPDATE {p}sandbox_levers SET throttles_left = throttles_left - 1 "
            "WHERE selling_partner_id = ? AND throttles_left > 0 RETURNING rate, rate_on_429",
            (selling_partner_id,),
        )
        return (rows[0]["rate"], bool(rows[0]["rate_on_429"])) if rows else None

    def rate_of(self, selling_partner_id: str) -> str | None:
        rows = self.t.query(
            "SELECT rate FROM {p}sandbox_levers WHERE selling_partner_id = ?",
            (selling_partner_id,),
        )
        return rows[0]["rate"] if rows else None

"""The one place that writes to the event store's tables outside the library: erasure
(SPEC §14) replaces the stored state of events recorded before personal values were
sealed (their redacted form, whose hash the `connection.erased` event seals) and deletes
the connection's snapshots (they are taken again from the events when next due)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.tables.dialect import Dialect


class StoredEvents:
    def __init__(self, tables: Dialect, events_table: str, snapshots_table: str | None) -> None:
        self.t = tables
        self.events_table = events_table
        self.snapshots_table = snapshots_table

    def replace_state(self, originator_id: UUID, version: int, state: bytes) -> None:
        self.t.execute(
            f"UPDATE {{p}}{self.events_table} SET state = ? "
            "WHERE originator_id = ? AND originator_version = ?",
            (state, self._id(originator_id), version),
        )

    def drop_snapshots(self, originator_id: UUID) -> None:
        if self.snapshots_table is not None:
            self.t.execute(
                f"DELETE FROM {{p}}{self.snapshots_table} WHERE originator_id = ?",
                (self._id(originator_id),),
            )

    def _id(self, originator_id: UUID) -> Any:
        # SQLite's tables keep the id as hex text; PostgreSQL's as uuid.
        return originator_id.hex if self.t.placeholder == "?" else originator_id

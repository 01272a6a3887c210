"""Audit: verify each connection's hash chain from the raw store, export history, chain heads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic

from adapters.event_positions import EventPositions
from adapters.tables.read_model import ConnectionsViewTables
from domain.chain import GENESIS, recompute
from domain.connection import Connection
from domain.personal import commitment
from service.api.exports import EVENT_COLUMNS, csv_line, event_cells
from service.connections.application import ConnectionsApp
from service.connections.read_model import ConnectionsProjection

_ENVELOPE = ("originator_id", "originator_version", "originator_topic")


@dataclass
class ChainReport:
    connection_id: str
    versions: int = 0
    head: str = GENESIS
    broken: list[dict[str, Any]] = field(default_factory=list)
    # Erasure (SPEC §14): whether the connection's personal values were erased, the
    # versions whose redacted form the erasure sealed, and how many sealed personal
    # values were opened and matched their commitments (none once erased).
    erased: bool = False
    redacted_versions: list[int] = field(default_factory=list)
    personal_values_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.broken

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": "audit",
            "connection_id": self.connection_id,
            "ok": self.ok,
            "versions": self.versions,
            "head": self.head,
            "first_broken_version": self.broken[0]["version"] if self.broken else None,
            "broken": self.broken,
            "erased": self.erased,
            "redacted_versions": self.redacted_versions,
            "personal_values_checked": self.personal_values_checked,
        }


class Audit:
    def __init__(
        self,
        app: ConnectionsApp,
        view: ConnectionsViewTables,
        projection: ConnectionsProjection,
        positions: EventPositions,
    ) -> None:
        self.app = app
        self.view = view
        self.projection = projection
        self.positions = positions  # what a tenant sees of the store's global positions

    def verify(self, connection_id: str) -> ChainReport:
        """Recomputes the chain from the stored bytes, not from any cache or snapshot.

        Each event's hash must follow the previous one's and match its content. An event
        recorded before personal values were sealed, and redacted by an erasure since,
        matches instead the hash of its redacted form that the (later, chained)
        `connection.erased` event sealed. While the connection's key exists, each sealed
        personal value is opened and must match its commitment (domain.personal)."""
        report = ChainReport(connection_id)
        prev = GENESIS
        recorded = []
        for stored in self.app.recorder.select_events(UUID(connection_id)):
            try:
                recorded.append((stored, *self._as_recorded(stored)))
            except Exception as exc:
                recorded.append((stored, None, exc))
        redacted = self._redactions(recorded, report)
        for stored, name, fields in recorded:
            version = stored.originator_version
            report.versions = version
            if name is None:
                report.broken.append(
                    {
                        "version": version,
                        "reason": f"event cannot be decoded ({type(fields).__name__})",
                    }
                )
                prev = "?"
                continue
            meta = fields.get("meta") or {}
            content = recompute(name, stored.originator_id, version, fields)
            if meta.get("prev") != prev:
                report.broken.append(
                    {"version": version, "reason": "does not follow the previous event's hash"}
                )
            elif content != meta.get("hash") and content != redacted.get(str(version)):
                report.broken.append(
                    {"version": version, "reason": "content does not match its hash"}
                )
            elif meta.get("pii") and not report.erased:
                self._check_commitments(stored, fields, report)
            prev = meta.get("hash", "?")
        report.head = prev
        return report

    @staticmethod
    def _redactions(recorded: list[Any], report: ChainReport) -> dict[str, str]:
        """What the connection's `connection.erased` event sealed, if it has one."""
        erasure = f"{Connection.Erased.__qualname__}"
        for _, name, fields in recorded:
            if name == erasure:
                report.erased = True
                report.redacted_versions = sorted(int(v) for v in fields.get("redacted", {}))
                return dict(fields.get("redacted", {}))
        return {}

    def _check_commitments(self, stored: Any, fields: dict[str, Any], report: ChainReport) -> None:
        mapper: Any = self.app.mapper
        try:
            opened = mapper.opened_with_salts(stored, fields)
        except ValueError:  # a sealed value that does not open: changed, or moved here
            report.broken.append(
                {"version": stored.originator_version, "reason": "a sealed value does not open"}
            )
            return
        if opened is None:  # the key is gone: nothing left to compare
            return
        expected = {tuple(path): c for path, c in fields["meta"]["pii"]}
        for path, salt, value in opened:
            if commitment(path, salt, value) != expected[path]:
                report.broken.append(
                    {
                        "version": stored.originator_version,
                        "reason": f"personal value at {'.'.join(path)} does not match "
                        "its commitment",
                    }
                )
                return
            report.personal_values_checked += 1

    def _as_recorded(self, stored: Any) -> tuple[str, dict[str, Any]]:
        """The event's fields exactly as recorded: decoded, but not upcast, because the
        hash sealed the shape the event had when it happened."""
        fields = self.app.mapper.decoded(stored)  # type: ignore[attr-defined]
        fields.pop("class_version", None)
        for key in _ENVELOPE:
            fields.pop(key, None)
        return resolve_topic(stored.topic).__qualname__, fields

    def verify_all(self) -> Iterator[ChainReport]:
        self.projection.catch_up()  # every connection recorded so far is listed
        for connection_id in self.view.all_ids():
            yield self.verify(connection_id)

    def heads(self) -> Iterator[dict[str, Any]]:
        """Each connection's latest version and hash, for anchoring in another system."""
        for report in self.verify_all():
            yield {
                "connection_id": report.connection_id,
                "version": report.versions,
                "head": report.head,
                "ok": report.ok,
            }

    def export(
        self,
        tenant_id: str,
        *,
        occurred_from: str | None,
        occurred_to: str | None,
        fmt: str,
        page: int = 500,
    ) -> Iterator[str]:
        """Streams the tenant's events in commit order, one line per event; `position` is
        the opaque number /v1/events shows for it."""
        self.projection.catch_up()
        if fmt == "csv":
            yield csv_line(["position", *EVENT_COLUMNS])
        after = 0
        while True:
            rows = self.view.events(
                tenant_id,
                after=after,
                limit=page,
                occurred_from=occurred_from,
                occurred_to=occurred_to,
            )
            for row in rows:
                event = json.loads(row.document)
                if fmt == "csv":
                    yield csv_line(
                        [self.positions.hide(tenant_id, row.position), *event_cells(event)]
                    )
                else:
                    yield (
                        json.dumps(
                            {"position": self.positions.hide(tenant_id, row.position), **event},
                            separators=(",", ":"),
                        )
                        + "\n"
                    )
            if len(rows) < page:
                return
            after = rows[-1].position

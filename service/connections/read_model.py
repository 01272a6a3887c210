"""The connections read model follows the event log (through `service.follower`).

Each batch of notifications is applied to the rows' stored aggregate state with the
aggregate's own event code, and the rows move with the position in one transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from adapters.tables.follower_faults import FollowerFaults
from adapters.tables.instants import iso
from adapters.tables.read_model import ConnectionsViewTables, EventRow, ViewRow
from domain.connection import Connection
from domain.deadlines import next_due_at
from service.connections.application import ConnectionsApp
from service.connections.presenters import event_json
from service.follower import Follower

log = logging.getLogger(__name__)
_SNAPSHOT_TOPIC = get_topic(Snapshot)


class ConnectionsProjection:
    name = "connections_view"

    def __init__(
        self,
        app: ConnectionsApp,
        view: ConnectionsViewTables,
        faults: FollowerFaults,
        clock: Any,
        batch: int = 500,
    ):
        self.app = app
        self.view = view
        self.follower = Follower(self, app, faults, clock, batch)

    def catch_up(
        self, until: int | None = None, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Processes everything recorded so far (or up to `until`); returns how many
        notifications this call applied. `progress(position, latest)` after each batch."""
        return self.follower.catch_up(until, progress)

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Applies the whole log again; safe while the service runs (rows stay readable,
        concurrent passes are serialised by the position's compare-and-set)."""
        self.view.rewind(self.name)
        return self.catch_up(progress=progress)

    # The follower's step (service.follower.Step).

    def position(self) -> int:
        return self.view.position(self.name)

    def prepare(self, notifications: Any) -> tuple[list[ViewRow], list[EventRow], int]:
        rows, events = self._rows_after(notifications)
        # Counted: the connections' events applied (the log also holds seller claims).
        return rows, events, len(events)

    def commit(self, expected: int, new: int, prepared: Any) -> int | None:
        rows, events, count = prepared
        return count if self.view.apply(self.name, expected, new, rows, events) else None

    def _rows_after(self, notifications: Any) -> tuple[list[ViewRow], list[EventRow]]:
        pairs = [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
        pairs = [(p, e) for p, e in pairs if isinstance(e, Connection.Event)]
        # The rows of the connections this batch moves; one it starts has none yet.
        first = {}
        for _, e in pairs:
            first.setdefault(str(e.originator_id), e.originator_version)
        ids = [key for key, version in first.items() if version > 1]
        aggregates: dict[str, Connection | None] = {
            row.id: self.from_row(row) for row in self.view.rows(ids)
        }
        indexed: list[EventRow] = []
        for position, e in pairs:
            key = str(e.originator_id)
            # A first event starts the connection afresh (this is what makes rebuilds work).
            before = None if e.originator_version == 1 else aggregates.get(key)
            after = aggregates[key] = e.mutate(before)
            indexed.append(
                EventRow(
                    position=position,
                    tenant_id=after.tenant_id,
                    connection_id=key,
                    version=e.originator_version,
                    occurred_at=iso(e.timestamp) or "",
                    document=json.dumps(event_json(e), separators=(",", ":")),
                )
            )
        rows = [self.to_row(a) for a in aggregates.values() if a is not None]
        return rows, indexed

    def to_row(self, aggregate: Connection) -> ViewRow:
        taken = Snapshot.take(aggregate)
        # Stamped with the aggregate's own time, so a rebuild writes identical documents.
        snapshot = Snapshot(**{**taken.__dict__, "timestamp": aggregate.modified_on})
        document = self.app.mapper.to_stored_event(snapshot).state.decode()
        return ViewRow(
            id=str(aggregate.id),
            tenant_id=aggregate.tenant_id,
            state=aggregate.state,
            region=aggregate.region,
            selling_partner_id=aggregate.selling_partner_id,
            owner_email=aggregate.owner_email,
            version=aggregate.version,
            created_at=iso(aggregate.created_on) or "",
            updated_at=iso(aggregate.modified_on) or "",
            reauth_due_at=iso(aggregate.reauth_due_at),
            next_due_at=iso(next_due_at(aggregate)),
            document=document,
        )

    def from_row(self, row: ViewRow) -> Connection:
        stored = StoredEvent(
            originator_id=UUID(row.id),
            originator_version=row.version,
            topic=_SNAPSHOT_TOPIC,
            state=row.document.encode(),
        )
        return self.app.mapper.to_domain_event(stored).mutate(None)

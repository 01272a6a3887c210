"""The outbox: each committed event becomes one delivery per subscribed endpoint, in the
transaction that moves the outbox's tracking position, so a crash between commit and
send loses nothing and no event is fanned out twice.

Events of tenants without an enabled endpoint are passed over: nobody would receive
them, and building their signed bodies was most of the outbox's cost. An endpoint still
gets every event from its creation on (`service.webhooks.policy.receives`): an event
committed after the endpoint was created is read after it too, when the endpoint is
there to be seen. Replay covers the events recorded here, so a tenant's first endpoint
can replay events from its creation on, not from before."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from uuid import UUID

import msgspec

from adapters.tables.instants import iso
from adapters.tables.webhook_outbox import EventRow
from adapters.tables.webhooks import WebhookTables
from domain.connection import EVENT_TYPES, Connection, event_type
from service.connections.latest_states import LatestStates
from service.connections.presenters import connection_json, event_id, rfc3339
from service.follower import Follower
from service.webhooks.ids import new_id
from service.webhooks.policy import receives


class WebhookOutbox:
    """Follows the notification log like the read model does (`service.follower`), so
    any number of processes may run it and each event is fanned out exactly once."""

    name = "webhook_outbox"
    remembered_tenants = 100_000  # connection id -> tenant, for passing events over

    def __init__(
        self, app: Any, tables: WebhookTables, faults: Any, clock: Any, batch: int = 200
    ) -> None:
        self.app = app
        self.tables = tables
        self.clock = clock
        self.follower = Follower(self, app, faults, clock, batch)
        self.states = LatestStates(app)  # each event's connection, as of that event
        self._tenants: OrderedDict[Any, str] = OrderedDict()

    def catch_up(self, until: int | None = None) -> int:
        """Processes everything recorded so far (or up to `until`); returns how many
        deliveries it created."""
        return self.follower.catch_up(until)

    # The follower's step (service.follower.Step).

    def position(self) -> int:
        return self.tables.position(self.name)

    def prepare(self, notifications: Any) -> list[EventRow]:
        return self._event_rows(notifications)

    def commit(self, expected: int, new: int, prepared: list[EventRow]) -> int | None:
        at = iso(self.clock.now()) or ""
        return self.tables.record(
            self.name, expected, new, prepared, at, lambda: new_id("wd"), receives
        )

    def _event_rows(self, notifications: Any) -> list[EventRow]:
        """Each event of a subscribed tenant with the connection as of that event,
        replayed with the aggregate's own event code from the state just before it."""
        rows = []
        events = [self.app.mapper.to_domain_event(n) for n in notifications]
        events = [
            (n, e) for n, e in zip(notifications, events, strict=True) if type(e) in EVENT_TYPES
        ]
        tenants = self._tenants_of([e for _, e in events])
        subscribed = self.tables.subscribed_tenants(sorted(set(tenants.values())))
        for notification, e in events:
            tenant = tenants.get(e.originator_id)
            if tenant is not None and tenant not in subscribed:
                continue
            rows.append(_event_row(e, self.states.after(e), notification.id))
        return rows

    def _tenants_of(self, events: list[Any]) -> dict[Any, str]:
        """The tenant of each event's connection, without loading it: a first event names
        it, connections seen lately are remembered, the read model knows the rest (a
        connection it does not hold yet is left out, and its event processed)."""
        found: dict[Any, str] = {}
        for e in events:
            known = self._tenants.get(e.originator_id)
            if e.originator_version == 1:
                known = getattr(e, "tenant_id", None)
            if known is not None:
                found[e.originator_id] = known
        missing = {str(e.originator_id) for e in events if e.originator_id not in found}
        if missing:
            for connection_id, tenant in self.tables.tenants_of(sorted(missing)).items():
                found[UUID(connection_id)] = tenant
        for connection_id, tenant in found.items():
            self._tenants[connection_id] = tenant
            self._tenants.move_to_end(connection_id)
        while len(self._tenants) > self.remembered_tenants:
            self._tenants.popitem(last=False)
        return found


def _event_row(e: Any, connection: Connection, notification_id: int) -> EventRow:
    kind = f"connection.{event_type(e)}"
    eid = event_id(e.originator_id, e.originator_version)
    body = {
        "type": kind,
        "timestamp": rfc3339(e.timestamp),
        "data": {
            "connection": connection_json(connection),
            "event": {
                "id": eid,
                "type": kind,
                "occurred_at": rfc3339(e.timestamp),
                "actor": (e.meta or {}).get("actor"),
            },
        },
    }
    return EventRow(
        id=eid,
        tenant_id=connection.tenant_id,
        type=kind,
        connection_id=str(e.originator_id),
        occurred_at=iso(e.timestamp) or "",
        notification_id=notification_id,
        body=msgspec.json.encode(body).decode(),
    )

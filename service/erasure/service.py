"""Erasing a connection: record `connection.erased`, then forget.

The order makes every step safe to repeat and to race:
1. The erasure is recorded like any command (load → `erase` → save): a command on the same
   connection saved meanwhile makes the save lose its version race, and it is tried
   again on the new version (which may refuse it: no longer `disconnected`). Its
   `redacted` field seals the redacted form of every event recorded before personal values
   were sealed (domain.chain), computed from the store as it stands at that version.
2. Those events are replaced by their redacted form; the connection's snapshots go.
3. Its data key is destroyed: every sealed value (events, snapshots, read-model rows)
   opens as ERASED from then on: at once in this process, within the key cache's lifetime
   in others (adapters.data_keys).
4. The log's followers (read model, webhook and mail outboxes) are caught up past the
   erasure, then the service's own tables are scrubbed (adapters.tables.erasure); SQLite
   is compacted.
A connection already erased goes through 2-4 again, so a crash between steps is repaired
by asking again; nothing new is recorded.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic

from adapters.stored_events import StoredEvents
from adapters.tables.erasure import ErasureTables
from domain.chain import recompute
from domain.connection import Connection, Context
from domain.exceptions import VersionConflict
from domain.personal import erased, personal_paths
from service.connections.application import ConnectionsApp

log = logging.getLogger(__name__)
_ENVELOPE = ("originator_id", "originator_version", "originator_topic")
_RACES = 5  # versions lost in a row before giving up (each is another command saved)


class Eraser:
    def __init__(
        self,
        app: ConnectionsApp,
        tables: ErasureTables,
        stored: StoredEvents,
        clock: Any,
        after: Any = lambda connection_id: None,
        followers: Any = lambda: [],
    ) -> None:
        self.app = app
        self.tables = tables
        self.stored = stored
        self.clock = clock
        self.after = after  # forgets what this process renders per version (service.container)
        # The log's followers (read model, outboxes): caught up past the erasure before
        # their tables are scrubbed, so none writes a value from an older event afterwards.
        self.followers = followers

    def erase(
        self,
        connection_id: str,
        reason: str,
        actor: str,
        *,
        tenant_id: str | None = None,
        request_id: str | None = None,
        compact: bool = True,
    ) -> Connection:
        """Erases the tenant's connection (any tenant's when `tenant_id` is None: the CLI
        and the worker); the connection as it is afterwards. `compact=False` leaves the
        store's compaction to the caller (`compact()`), once for many erasures."""
        for _ in range(_RACES):
            connection = self._load(connection_id, tenant_id)
            if connection.erased_at is not None:
                break
            ctx = Context(
                actor=actor, at=self.clock.now(), request_id=request_id, correlation_id=request_id
            )
            connection.erase(ctx, reason, self._redactions(connection))
            try:
                self.app.store(connection)
            except VersionConflict:
                continue
            log.info("connection %s erased by %s", connection.id, actor)
            break
        else:
            raise VersionConflict(
                "The connection kept changing while it was being erased; try again."
            )
        self.forget(connection, compact=compact)
        return connection

    def compact(self) -> None:
        self.tables.compact()

    def forget(self, connection: Connection, *, compact: bool = True) -> None:
        """Steps 2-4 (module docstring) for an erased connection."""
        self._redact_stored(connection)
        self.stored.drop_snapshots(connection.id)
        mapper: Any = self.app.mapper
        if mapper.keys is not None:
            mapper.destroy_keys(str(connection.id), self.app.data_key_ids(connection.id))
        self.after(str(connection.id))
        for follower in self.followers():
            follower.catch_up()
        self.tables.scrub(connection.tenant_id, str(connection.id))
        if compact:
            self.tables.compact()

    def _load(self, connection_id: str, tenant_id: str | None) -> Connection:
        if tenant_id is None:
            return self.app.load_without_tenant_check(connection_id)
        return self.app.load(tenant_id, connection_id)

    # Events recorded before erasure existed: personal values in plaintext, under the hash.

    def _legacy(self, originator_id: UUID, up_to: int | None = None) -> list[Any]:
        """(stored event, its whole decoded state, its redacted state) of each event whose
        plaintext holds a personal value."""
        found = []
        for stored in self.app.recorder.select_events(originator_id, lte=up_to):
            state = self.app.mapper.decoded(stored)  # type: ignore[attr-defined]
            meta = state.get("meta") or {}
            if "pii" in meta or not any(True for _ in personal_paths(state)):
                continue
            redacted = erased(state)
            if redacted != state:
                found.append((stored, state, redacted))
        return found

    def _redactions(self, connection: Connection) -> dict[str, str]:
        """Version -> hash of the redacted form, for `connection.erased` to seal."""
        return {
            str(stored.originator_version): recompute(
                resolve_topic(stored.topic).__qualname__,
                stored.originator_id,
                stored.originator_version,
                _as_hashed(redacted),
            )
            for stored, _, redacted in self._legacy(connection.id, connection.version)
        }

    def _redact_stored(self, connection: Connection) -> None:
        sealed = _erasure_of(self.app, connection.id)
        for stored, _, redacted in self._legacy(connection.id):
            if str(stored.originator_version) in sealed:
                self.stored.replace_state(
                    connection.id,
                    stored.originator_version,
                    self.app.mapper.encoded(redacted),  # type: ignore[attr-defined]
                )


def _as_hashed(state: dict[str, Any]) -> dict[str, Any]:
    """The fields the chain hashes: the stored state without the envelope and version."""
    return {k: v for k, v in state.items() if k not in (*_ENVELOPE, "class_version")}


def _erasure_of(app: ConnectionsApp, originator_id: UUID) -> dict[str, str]:
    """The `redacted` map the connection's `connection.erased` event sealed."""
    for event in app.events.get(originator_id, desc=True, limit=1):
        if isinstance(event, Connection.Erased):
            return event.redacted
    return {}

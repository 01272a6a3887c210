"""Connections as of the latest event a follower applied, kept in memory: the next event
of the same connection is applied to that state instead of loading the aggregate from the
store. States follow from the events alone, whoever recorded them, so any process may
keep them; a state that is not exactly the one before an event is never used for it."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from uuid import UUID

from domain.connection import Connection


class LatestStates:
    def __init__(self, app: Any, size: int = 5_000) -> None:
        self.app = app
        self.size = size
        self._latest: OrderedDict[Any, Connection] = OrderedDict()

    def after(self, e: Any) -> Connection:
        """The connection as of event `e`: `e` applied to the state just before it when
        that is the one kept, else loaded at `e`'s version (ConnectionsApp: this process's
        aggregate cache when it holds that version, else the store); kept in its turn.
        The caller reads it before asking for the connection's next event."""
        version = e.originator_version
        known = self._latest.get(e.originator_id)
        if version == 1 or (known is not None and known.version == version - 1):
            try:
                connection = e.mutate(None if version == 1 else known)
            except Exception:  # a state half changed is no state to apply the next to
                self._latest.pop(e.originator_id, None)
                raise
        else:
            connection = self.app.load_without_tenant_check(e.originator_id, version)
        self._latest[connection.id] = connection
        self._latest.move_to_end(connection.id)
        if len(self._latest) > self.size:
            self._latest.popitem(last=False)
        return connection

    def kept(self, connection_id: str) -> Connection | None:
        """The state kept of the connection, if any."""
        return self._latest.get(UUID(connection_id))

    def forget(self, connection_id: str) -> None:
        """An erased connection's state goes at once (service.erasure)."""
        self._latest.pop(UUID(connection_id), None)

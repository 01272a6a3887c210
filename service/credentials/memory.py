"""This process's memory of the access tokens it handed out: a cached token then costs no
copy of the connection, no decryption, and (where changes are announced) no query at all.

An entry holds the connection as it was loaded (read only: never saved), the decrypted
token, and what the store's token row held (its ciphertext and expiry). The store stays
the truth, and only ciphertext is ever written to it.

- Where PostgreSQL announces changes (a listener on the event store's channel, on which
  every transaction that records events notifies, and one on the access-token channel,
  notified with each change of a token row), an entry checked since the last announcement
  is used at once, on the event loop. Any recorded event (and this process's own commits)
  makes every entry unchecked; a changed token row drops its connection's entries.
- Otherwise (SQLite; a listener starting or reconnecting; an unchecked entry) the entry is
  checked against the store before use: no event after its version, the token row as it
  was. Two index reads, no load of the aggregate.

Either way the token's expiry and the connection's refusals (revocation, lapse, disconnect)
are asked on every use, against the clock of that moment.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from adapters.tables.access_tokens import AccessTokenTables
from domain.connection import Connection

Mark = tuple[int, int]


@dataclass(frozen=True)
class Entry:
    connection: Connection
    issued: Any  # service.credentials.tokens.Issued, read from the row (`stored` set)
    epoch: int


class TokenMemory:
    kept_at_most = 10_000

    def __init__(self, recorder: Any, tables: AccessTokenTables, listener: Any = None) -> None:
        self.recorder = recorder
        self.tables = tables
        self.hub = listener  # the process's adapters.wakeup.PostgresListener (PostgreSQL)
        self._entries: dict[str, dict[str, Entry]] = {}  # connection id -> api -> entry
        self._epoch = 0  # moves whenever an event may have been recorded anywhere
        self._dropped = 0  # moves at every drop: a fill racing one is not kept
        self._guard = threading.Lock()
        self.listeners: list[Any] = []

    def watch(self) -> None:
        """Starts hearing, on the process's listener, where the store announces changes
        (PostgreSQL): the event store's channel (its payload names the connections a
        commit recorded events for) and the access tokens' channel."""
        channels = (getattr(self.recorder, "channel_name", None), self.tables.channel)
        if None in channels or self.hub is None or self.listeners:
            return
        events, tokens = channels
        self.listeners = [
            self.hub.subscribe(events, on_notify=self.announced, on_listen=self.forget_all),
            self.hub.subscribe(tokens, on_notify=self.drop, on_listen=self.forget_all),
        ]
        self.hub.start()

    def close(self) -> None:
        for listener in self.listeners:
            listener.cancel()
        self.listeners = []
        self.forget_all()

    def _announced(self) -> bool:
        listeners = self.listeners
        if not listeners:
            return False
        for x in listeners:
            if not x.listening.is_set():
                return False
        return True

    def recall(self, tenant_id: str, connection_id: str, api: str) -> Entry | None:
        """The entry, if nothing was announced since it was checked; never a query, so the
        event loop may ask."""
        entry = self._entries.get(connection_id, {}).get(api)
        if entry is None or entry.connection.tenant_id != tenant_id:
            return None
        if entry.epoch != self._epoch or not self._announced():
            return None
        return entry

    def checked(self, tenant_id: str, connection_id: str, api: str) -> Entry | None:
        """The entry, after the store confirmed it (blocking); None when anything moved."""
        mark = self.mark()
        entry = self._entries.get(connection_id, {}).get(api)
        if entry is None or entry.connection.tenant_id != tenant_id:
            return None
        c = entry.connection
        if self.recorder.select_events(UUID(connection_id), gt=c.version, limit=1):
            return None
        row = self.tables.read(connection_id, api)
        if row is None or (row.token_encrypted, row.expires_at) != entry.issued.stored:
            return None
        self.keep(mark, c, api, entry.issued)
        return entry

    def mark(self) -> Mark:
        """Taken before reading the store for an entry: `keep` refuses it if anything was
        announced or dropped meanwhile (it may have been read before that change)."""
        return self._epoch, self._dropped

    def keep(self, mark: Mark, c: Connection, api: str, issued: Any) -> None:
        with self._guard:
            if mark[1] != self._dropped:
                return
            if len(self._entries) >= self.kept_at_most:
                self._entries = {}
            entry = Entry(c, issued, mark[0])
            self._entries[str(c.id)] = {**self._entries.get(str(c.id), {}), api: entry}

    def recorded(self, *connection_ids: str) -> None:
        """Events were recorded for these connections (in this process: told by the
        application after its commit): their entries are dropped, the others stay. With
        no ids, an event may have been recorded anywhere: every entry is checked again."""
        if not connection_ids:
            with self._guard:
                self._epoch += 1
            return
        with self._guard:
            self._dropped += 1  # a fill racing this is not kept (it may predate the event)
            for connection_id in connection_ids:
                self._entries.pop(connection_id, None)

    def announced(self, payload: str) -> None:
        """The event store's NOTIFY: the payload lists the originator ids of the commit's
        events, comma-separated (adapters.pg_recorder); empty when unknown (a wake-up
        sent by other writes, or too many ids for one notification)."""
        self.recorded(*(payload.split(",") if payload else ()))

    def drop(self, connection_id: str) -> None:
        with self._guard:
            self._dropped += 1
            self._entries.pop(connection_id, None)

    def forget_all(self) -> None:
        with self._guard:
            self._epoch += 1
            self._dropped += 1
            self._entries = {}

"""The event store's mapper, with each connection's personal values sealed under its own
data key (adapters.data_keys), in events and in snapshots alike.

Stored, an event's personal values are one envelope, `meta.personal = {"k": "<key id>",
"pv": "<pv1 token>"}`, whose token holds `[[salt, value], ...]` in the order of
`meta.pii` (the salts of the event's commitments, domain.personal), sealed with AES-GCM and
bound to the connection and the event's version; each value's own place holds
`"[personal]"`. A snapshot's envelope sits beside its `state` and holds `[[path, value],
...]`, bound to the connection. One envelope per event, not a token per value: sealing and
opening cost one AEAD call and one JSON document whatever the number of values (issue #27
bounds what a per-connection key may cost a create).

Decoded, each value is itself again, or ERASED once the key is destroyed. Events and
snapshots written by the first release of erasure hold a token per value instead
(`{"pv": "<pv1 token>", "k": "<key id>"}` in the value's place, bound to its path); they
are read as they were written. Events recorded before erasure existed (plaintext, no
`meta.pii`) are read as they always were.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from adapters.crypto import open_value, seal_value
from adapters.data_keys import DataKeys
from domain.chain import ENVELOPE, SEALED
from domain.personal import ERASED, Path, get_path, personal_paths, with_path

_SNAPSHOT_TOPIC = get_topic(Snapshot)
_TOKEN, _KEY = "pv", "k"
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# Envelopes opened lately, by where and token: a worker pass hands each new event to three
# followers (the read model, the webhook and mail outboxes), which then open it once.
_OPENED_SIZE = 4096


class PersonalMapper(Mapper):
    # Set by the composition root (service.container) once the tables exist; without it
    # (an in-memory store in unit tests) values are stored as they are.
    keys: DataKeys | None = None

    def __init__(self, *args: Any, personal_topics: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.personal_topics = personal_topics  # the event topics that may hold personal values
        self.aggregate_topic = ""
        self._opened: dict[tuple[Any, int | None, str], list[list[Any]]] = {}

    def destroy_keys(self, connection_id: str, key_ids: list[str]) -> None:
        """Erasure's step: the connection's keys destroyed, and nothing they opened kept."""
        assert self.keys is not None
        self.keys.destroy(connection_id, key_ids)
        self._opened.clear()

    def warm(self, events: Any) -> None:
        """Takes (or looks up) the keys these events will be sealed with, in the calling
        thread: a command's own thread, not the group commit's writer, which then finds
        them cached. A connection's first event takes a spare key: nothing to look up."""
        if self.keys is None:
            return
        for event in events:
            if "pii" in (getattr(event, "meta", None) or {}):
                first = event.originator_version == 1
                self.keys.for_writing(str(event.originator_id), new=first)

    # Encoding

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if self.keys is None:
            return super().to_stored_event(domain_event)
        topic = get_topic(type(domain_event))
        if topic in self.personal_topics:
            meta = domain_event.meta
            if "pii" in meta:
                return self._sealed_event(domain_event, meta)
        elif topic == _SNAPSHOT_TOPIC and domain_event.topic == self.aggregate_topic:
            return self._sealed_snapshot(domain_event)
        return super().to_stored_event(domain_event)

    def _sealed_event(self, event: Any, meta: dict[str, Any]) -> StoredEvent:
        key_id, key = self.keys.for_writing(str(event.originator_id))  # type: ignore[union-attr]
        state = {k: v for k, v in vars(event).items() if k != "meta"}
        paths = [path for path, _ in meta["pii"]]
        values = [[salt, get_path(state, p)] for p, salt in zip(paths, meta["salts"], strict=True)]
        state = _sealed_copy(state, paths)
        where = _event_where(event.originator_id, event.originator_version)
        envelope = {_KEY: key_id, _TOKEN: seal_value(key, where, _dumps(values))}
        state["meta"] = {**{k: v for k, v in meta.items() if k != "salts"}, ENVELOPE: envelope}
        return super().to_stored_event(_shell(type(event), state))

    def _sealed_snapshot(self, snapshot: Any) -> StoredEvent:
        inner = snapshot.state
        values = []
        for path in personal_paths(inner):
            value = get_path(inner, path)
            if isinstance(value, str) and value != ERASED:
                values.append([list(path), value])
        if not values:  # an erased connection's: nothing left to seal, and no key to do it
            return super().to_stored_event(snapshot)
        key_id, key = self.keys.for_writing(str(snapshot.originator_id))  # type: ignore[union-attr]
        token = seal_value(key, _snapshot_where(snapshot.originator_id), _dumps(values))
        inner = _sealed_copy(inner, [path for path, _ in values])
        state = {**vars(snapshot), "state": inner, ENVELOPE: {_KEY: key_id, _TOKEN: token}}
        return super().to_stored_event(_shell(type(snapshot), state))

    # Decoding

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        if self.keys is None:
            return event
        state = vars(event)  # freshly decoded: changed in place
        oid = stored_event.originator_id
        if stored_event.topic == _SNAPSHOT_TOPIC:
            inner = state.get("state")
            envelope = state.pop(ENVELOPE, None)
            if envelope is not None:
                values = self._open(envelope, oid, None)
                for path, value in values or ():
                    _put(inner, path, value)
                if values is None:
                    for path in personal_paths(inner):
                        if get_path(inner, path) == SEALED:
                            _put(inner, path, ERASED)
            elif isinstance(inner, dict):
                state["state"] = self.opened_per_value(oid, inner)
            return event
        meta = state.get("meta")
        if meta and "pii" in meta:
            envelope = meta.pop(ENVELOPE, None)
            if envelope is None:  # the first release's tokens, or written without keys
                opened = self.opened_per_value(oid, state)
                if opened is not state:
                    state.clear()
                    state.update(opened)
                return event
            values = self._open(envelope, oid, stored_event.originator_version)
            for i, (path, _) in enumerate(meta["pii"]):
                _put(state, path, ERASED if values is None else values[i][1])
        return event

    def _open(
        self, envelope: dict[str, str], originator_id: Any, version: int | None
    ) -> list[list[Any]] | None:
        """An envelope's values (an event's, or a snapshot's when `version` is None); None
        once its key is destroyed. ValueError when it does not open here (changed, or
        moved from another event or connection)."""
        key = self.keys.for_reading(envelope[_KEY])  # type: ignore[union-attr]
        if key is None:  # checked first, remembered or not: an erasure wins at once
            return None
        # Remembered by place as well as token: a token moved elsewhere still fails to open.
        place = (originator_id, version, envelope[_TOKEN])
        values = self._opened.get(place)
        if values is None:
            where = (
                _snapshot_where(originator_id)
                if version is None
                else _event_where(originator_id, version)
            )
            values = json.loads(open_value(key, where, place[2]))
            if len(self._opened) >= _OPENED_SIZE:
                self._opened.clear()
            self._opened[place] = values
        self.keys.opened_with(str(originator_id), envelope[_KEY])  # type: ignore[union-attr]
        return values

    def opened_per_value(self, originator_id: Any, fields: dict[str, Any]) -> dict[str, Any]:
        """`fields` as the first release of erasure sealed them (a token per value), each
        value opened, or ERASED without its key."""
        for path, sealed in _sealed_values(fields):
            key = self.keys.for_reading(sealed[_KEY])  # type: ignore[union-attr]
            plain = ERASED
            if key is not None:
                _, plain = json.loads(open_value(key, _where(originator_id, path), sealed[_TOKEN]))
            fields = with_path(fields, path, plain)
        return fields

    def opened_with_salts(self, stored: StoredEvent, fields: dict[str, Any]) -> list[Any] | None:
        """Each sealed value of a stored event's `fields` (as `decoded` gives them) as
        `(path, salt, value)`, for the audit to test against the commitments; None once
        its key is destroyed. ValueError when a sealed value does not open here."""
        if self.keys is None:
            return None
        meta = fields.get("meta") or {}
        paths = [tuple(path) for path, _ in meta.get("pii") or ()]
        envelope = meta.get(ENVELOPE)
        if envelope is not None:
            values = self._open(envelope, stored.originator_id, stored.originator_version)
            if values is None:
                return None
            return [(path, salt, value) for path, (salt, value) in zip(paths, values, strict=True)]
        found = []
        for path in paths:
            sealed = get_path(fields, path)
            key = self.keys.for_reading(sealed[_KEY])
            if key is None:
                return None
            salt, value = json.loads(
                open_value(key, _where(stored.originator_id, path), sealed[_TOKEN])
            )
            found.append((path, salt, value))
        return found

    def decoded(self, stored: StoredEvent) -> dict[str, Any]:
        """A stored event's fields as recorded: decoded, personal values still sealed, not
        upcast (the chain's hash covers the recorded shape)."""
        state = stored.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return self.transcoder.decode(state)

    def encoded(self, fields: dict[str, Any]) -> bytes:
        state = self.transcoder.encode(fields)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return state

    @staticmethod
    def key_ids(fields: dict[str, Any]) -> list[str]:
        """The keys that sealed a recorded event's (or snapshot's) personal values."""
        envelopes = [fields.get(ENVELOPE), (fields.get("meta") or {}).get(ENVELOPE)]
        named = [e[_KEY] for e in envelopes if isinstance(e, dict)]
        named += [sealed[_KEY] for _, sealed in _sealed_values(fields)]
        return list(dict.fromkeys(named))


def _sealed_values(fields: dict[str, Any]) -> list[tuple[Path, dict[str, str]]]:
    """The first release's tokens per value."""
    found = []
    for path in personal_paths(fields):
        value = get_path(fields, path)
        if isinstance(value, dict) and _TOKEN in value:
            found.append((path, value))
    return found


def _dumps(values: list[list[Any]]) -> str:
    return _COMPACT.encode(values)


def _sealed_copy(fields: dict[str, Any], paths: list[Any]) -> dict[str, Any]:
    """A copy of `fields` with SEALED at each of `paths`: each dict on the way copied once
    (never changed: it may be shared with a live event or aggregate)."""
    copy = dict(fields)
    copied: set[tuple[str, ...]] = set()
    for path in paths:
        node = copy
        for depth, key in enumerate(path[:-1], 1):
            if (prefix := tuple(path[:depth])) not in copied:
                copied.add(prefix)
                node[key] = dict(node[key])
            node = node[key]
        node[path[-1]] = SEALED
    return copy


def _put(fields: dict[str, Any], path: Any, value: Any) -> None:
    """`value` at `path` of a freshly decoded document (nobody else holds its dicts)."""
    *parents, last = path
    for key in parents:
        fields = fields[key]
    fields[last] = value


def _shell(cls: type, state: dict[str, Any]) -> Any:
    """An event of `cls` holding `state`, made as the library makes one it decodes (the
    live event is left as it was)."""
    shell = object.__new__(cls)
    object.__setattr__(shell, "__dict__", state)
    return shell


def _event_where(originator_id: Any, version: int) -> str:
    return f"{originator_id}@{version}"


def _snapshot_where(originator_id: Any) -> str:
    return f"{originator_id}@snapshot"


def _where(originator_id: Any, path: Path) -> str:
    """Where the first release's token per value was bound: connection and path."""
    return f"{originator_id}/{'/'.join(path)}"

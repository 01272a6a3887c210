"""The event store's mapper, with each connection's personal values sealed under its own
data key (adapters.data_keys), in events and in snapshots alike.

Stored, a personal value is `{"pv": "<pv1 token>", "k": "<key id>"}` in place of the value;
the token holds `[salt, value]` (the salt of the event's commitment, domain.personal; none
in snapshots), sealed with AES-GCM and bound to the connection and the value's path.
Decoded, it is the value again, or ERASED once the key is destroyed. Everything else about
the stored format is the library's: events recorded before erasure existed (plaintext, no
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
from domain.personal import ERASED, Path, get_path, personal_paths, with_path

_SNAPSHOT_TOPIC = get_topic(Snapshot)
_SEALED, _KEY = "pv", "k"


class PersonalMapper(Mapper):
    # Set by the composition root (service.container) once the tables exist; without it
    # (an in-memory store in unit tests) values are stored as they are.
    keys: DataKeys | None = None

    def __init__(self, *args: Any, personal_topics: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.personal_topics = personal_topics  # the event topics that may hold personal values
        self.aggregate_topic = ""

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
        key = self.keys.for_writing(str(event.originator_id))  # type: ignore[union-attr]
        state = {k: v for k, v in vars(event).items() if k != "meta"}
        for (path, _), salt in zip(meta["pii"], meta["salts"], strict=True):
            state = _seal(state, key, event.originator_id, tuple(path), salt)
        state["meta"] = {k: v for k, v in meta.items() if k != "salts"}
        return super().to_stored_event(_shell(type(event), state))

    def _sealed_snapshot(self, snapshot: Any) -> StoredEvent:
        inner = snapshot.state
        paths = [
            path
            for path in personal_paths(inner)
            if isinstance(get_path(inner, path), str) and get_path(inner, path) != ERASED
        ]
        if not paths:  # an erased connection's: nothing left to seal, and no key to do it
            return super().to_stored_event(snapshot)
        key = self.keys.for_writing(str(snapshot.originator_id))  # type: ignore[union-attr]
        for path in paths:
            inner = _seal(inner, key, snapshot.originator_id, path, None)
        return super().to_stored_event(_shell(type(snapshot), {**vars(snapshot), "state": inner}))

    # Decoding

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        if self.keys is None:
            return event
        state = vars(event)
        if stored_event.topic == _SNAPSHOT_TOPIC:
            inner = state.get("state")
            if isinstance(inner, dict):
                state["state"] = self.opened(stored_event.originator_id, inner)
        elif "pii" in (state.get("meta") or {}):
            opened = self.opened(stored_event.originator_id, state)
            state.clear()
            state.update(opened)
        return event

    def opened(self, originator_id: Any, fields: dict[str, Any]) -> dict[str, Any]:
        """`fields` with each sealed personal value opened, or ERASED without its key."""
        for path, sealed in _sealed_values(fields):
            key = self.keys.for_reading(sealed[_KEY])  # type: ignore[union-attr]
            plain = ERASED
            if key is not None:
                _, plain = json.loads(open_value(key, _where(originator_id, path), sealed[_SEALED]))
            fields = with_path(fields, path, plain)
        return fields

    def opened_with_salts(self, originator_id: Any, fields: dict[str, Any]) -> list[Any] | None:
        """Each sealed value of a stored event's `fields` as `(path, salt, value)`, for the
        audit to test against the commitments; None once its key is destroyed."""
        found = []
        for path, _ in (fields.get("meta") or {}).get("pii") or ():
            sealed = get_path(fields, tuple(path))
            key = self.keys.for_reading(sealed[_KEY]) if self.keys else None
            if key is None:
                return None
            where = _where(originator_id, tuple(path))
            salt, value = json.loads(open_value(key, where, sealed[_SEALED]))
            found.append((tuple(path), salt, value))
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
        """The keys that sealed a recorded event's personal values."""
        return list(dict.fromkeys(sealed[_KEY] for _, sealed in _sealed_values(fields)))


def _sealed_values(fields: dict[str, Any]) -> list[tuple[Path, dict[str, str]]]:
    found = []
    for path in personal_paths(fields):
        value = get_path(fields, path)
        if isinstance(value, dict) and _SEALED in value:
            found.append((path, value))
    return found


def _seal(state: dict, key: tuple[str, bytes], originator_id: Any, path: Path, salt: Any) -> dict:
    key_id, secret = key
    plain = json.dumps([salt, get_path(state, path)], ensure_ascii=False)
    token = seal_value(secret, _where(originator_id, path), plain)
    return with_path(state, path, {_SEALED: token, _KEY: key_id})


def _shell(cls: type, state: dict[str, Any]) -> Any:
    """An event of `cls` holding `state`, made as the library makes one it decodes (the
    live event is left as it was)."""
    shell = object.__new__(cls)
    object.__setattr__(shell, "__dict__", state)
    return shell


def _where(originator_id: Any, path: Path) -> str:
    return f"{originator_id}/{'/'.join(path)}"

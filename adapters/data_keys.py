"""Data keys: each connection's personal values are sealed under a key of its own, wrapped
at rest by a key derived from SECRET_KEY, destroyed on erasure (crypto-shredding, SPEC §14).

One small synchronous interface (`DataKeys`) that the mapper calls from whichever thread
encodes or decodes an event. Keys are made ahead of use, a batch per transaction, so that
creating a connection writes nothing more than its events: its sealed values name their
key (`key_id`), and its first event says, to any process, which key is the connection's
(`locate`). Unwrapped keys stay in an in-process cache for at most `cache_seconds`; an
erasure in this process empties it at once, so a destroyed key opens nothing anywhere
after that long.

Wrapping keys form a ring (the current SECRET_KEY's first, then PREVIOUS_SECRET_KEYS'):
`rewrap` wraps every stored key under the first, after which the previous secrets can go
(README, "Rotating SECRET_KEY"). A key is wrapped with AES key wrap (RFC 3394, NIST SP
800-38F's KW: made for wrapping keys, deterministic, authenticated) and stored as
`kw1:<base64url>`: about a sixth of Fernet's cost, which the first release used and whose
tokens still unwrap (and are moved to `kw1:` by `rewrap`).

A process that meets a key it has not unwrapped (a follower reading what another process
wrote) asks for it with the batch it was made in: the keys of a batch share the first 16
of their 24 hex digits, so the primary key's index finds them together, and one query serves
the next connections of that batch, which usually follow in the log. They are kept
wrapped until asked for, as long as an unwrapped key would be.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from adapters.tables.data_keys import DataKeyRows

_KW = "kw1:"
_KEY_BYTES = 32
# A key id is 24 hex digits: its batch's 16 (random), then its place in the batch.
_BATCH_DIGITS = 16

K, V = TypeVar("K"), TypeVar("V")


class DataKeyErased(Exception):
    """The key was destroyed: the connection's personal values were erased."""


class DataKeys:
    def __init__(
        self,
        rows: DataKeyRows,
        wrapping_keys: list[bytes],
        now: Callable[[], str],
        *,
        batch: int = 64,
        cache_size: int = 100_000,
        cache_seconds: float = 30.0,
    ) -> None:
        self.rows = rows
        # A key-encryption key of its own per wrapping key (not the same bytes in two
        # algorithms); Fernet's ring only for what the first release wrapped.
        self._keks = [
            hmac.new(k, b"data-key-wrap/kw1", hashlib.sha256).digest() for k in wrapping_keys
        ]
        self._ring = MultiFernet([Fernet(base64.urlsafe_b64encode(k)) for k in wrapping_keys])
        self._now = now
        # The key id a connection's first event names, if it seals anything (set by the
        # application, which reads the store).
        self.locate: Callable[[str], str | None] = lambda connection_id: None
        self._batch = batch
        self._spare: list[tuple[str, bytes]] = []  # made, stored, not yet taken
        self._keys: _Expiring[str, bytes] = _Expiring(cache_size, cache_seconds)
        self._owners: _Expiring[str, str] = _Expiring(cache_size, cache_seconds)
        # Wrapped keys that came with one this process asked for (their batch's).
        self._wrapped: _Expiring[str, str] = _Expiring(cache_size, cache_seconds)
        self._lock = threading.Lock()

    def for_writing(self, connection_id: str, *, new: bool = False) -> tuple[str, bytes]:
        """(key id, key) to seal the connection's values with. `new`: the connection is
        being created, so a spare key is taken and nothing is looked up or written."""
        key_id = self._owners.get(connection_id)
        if key_id is None and not new:
            key_id = self.locate(connection_id) or next(
                (r.key_id for r in self.rows.claimed_by(connection_id)), None
            )
        if key_id is None:
            key_id, key = self._take()
            if not new:  # its first event does not name it: say whose it is here
                self.rows.claim(key_id, connection_id)
            self._keys.put(key_id, key)
        self._owners.put(connection_id, key_id)
        key = self.for_reading(key_id)
        if key is None:
            raise DataKeyErased(connection_id)
        return key_id, key

    def for_reading(self, key_id: str) -> bytes | None:
        """The key; None once it is destroyed."""
        key = self._keys.get(key_id)
        if key is None:
            wrapped = self._wrapped.get(key_id)
            if wrapped is None:
                wrapped = self._fetch_batch_of(key_id)
            if wrapped is None:
                return None
            key = self._unwrap(wrapped, key_id)
            self._keys.put(key_id, key)
        return key

    def opened_with(self, connection_id: str, key_id: str) -> None:
        """A value of the connection opened with this key, which is therefore its own:
        every value a connection seals names the key `for_writing` gives it. Sealing its
        next snapshot here then looks nothing up."""
        if self._owners.get(connection_id) != key_id:
            self._owners.put(connection_id, key_id)

    def _fetch_batch_of(self, key_id: str) -> str | None:
        """The key's wrapped form from the store, None once destroyed; the rest of its
        batch kept wrapped for the next asks (a destroyed one is not kept)."""
        wanted = None
        for row in self.rows.made_with(key_id, key_id[:_BATCH_DIGITS]):
            if row.key_id == key_id:
                wanted = row.wrapped_key
            elif row.wrapped_key is not None:
                self._wrapped.put(row.key_id, row.wrapped_key)
        return wanted

    def destroy(self, connection_id: str, key_ids: Iterable[str]) -> None:
        key_ids = sorted(set(key_ids))
        self.rows.destroy(key_ids, connection_id, self._now())
        self._owners.pop(connection_id)
        for key_id in key_ids:
            self._keys.pop(key_id)
            self._wrapped.pop(key_id)

    def rewrap(self) -> int:
        """Every stored key wrapped again under the current SECRET_KEY; how many moved."""
        moved, after = 0, ""
        while batch := self.rows.wrapped(after):
            for row in batch:
                assert row.wrapped_key is not None
                new = self._wrap(self._unwrap(row.wrapped_key, row.key_id))
                if new != row.wrapped_key:  # KW is deterministic: same key, same wrapping
                    moved += self.rows.rewrap(row.key_id, row.wrapped_key, new)
            after = batch[-1].key_id
        return moved

    def _take(self) -> tuple[str, bytes]:
        with self._lock:
            if not self._spare:
                drawn = os.urandom(_BATCH_DIGITS // 2 + _KEY_BYTES * self._batch)  # one call
                batch, keys = drawn[: _BATCH_DIGITS // 2].hex(), drawn[_BATCH_DIGITS // 2 :]
                made = [
                    (f"{batch}{n:08x}", keys[n * _KEY_BYTES : (n + 1) * _KEY_BYTES])
                    for n in range(self._batch)
                ]
                made.reverse()  # taken from the end: in the order of their ids
                self.rows.add_many([(key_id, self._wrap(key)) for key_id, key in made], self._now())
                self._spare = made
            return self._spare.pop()

    def _wrap(self, key: bytes) -> str:
        return _KW + base64.urlsafe_b64encode(aes_key_wrap(self._keks[0], key)).decode()

    def _unwrap(self, wrapped: str, key_id: str) -> bytes:
        if wrapped.startswith(_KW):
            raw = base64.urlsafe_b64decode(wrapped[len(_KW) :])
            for kek in self._keks:
                try:
                    return aes_key_unwrap(kek, raw)
                except InvalidUnwrap:
                    continue
        else:
            with contextlib.suppress(InvalidToken):
                return self._ring.decrypt(wrapped.encode())
        raise RuntimeError(
            f"data key {key_id} opens with no configured SECRET_KEY "
            "(set PREVIOUS_SECRET_KEYS during a rotation)"
        )


class _Expiring(Generic[K, V]):
    """A bounded, thread-safe map whose entries are forgotten after `seconds`; the oldest
    put goes first when it is full. A read takes no lock and changes nothing (one dict
    lookup, atomic in CPython): every event a command seals or a follower opens reads it.
    Every change is made under the lock, so eviction's walk never meets another change."""

    def __init__(self, size: int, seconds: float) -> None:
        self._entries: dict[K, tuple[float, V]] = {}
        self._size, self._seconds = size, seconds
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None  # an expired entry stays until it is put again or evicted
        return entry[1]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries.pop(key, None)  # to the end: the newest put
            self._entries[key] = (time.monotonic() + self._seconds, value)
            while len(self._entries) > self._size:
                self._entries.pop(next(iter(self._entries)), None)

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

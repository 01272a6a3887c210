"""Each connection's data key: made on its first personal value, wrapped at rest by a key
derived from SECRET_KEY, destroyed on erasure (crypto-shredding, SPEC §14).

One small synchronous interface (`DataKeys`) that the mapper calls from whichever thread
encodes or decodes an event; keys it has unwrapped stay in an in-process cache, which
erasure (in this process, or the follower that sees `connection.erased` in another)
empties for that connection. Wrapping keys form a ring (the current SECRET_KEY's first,
then PREVIOUS_SECRET_KEYS'): `rewrap` moves every stored key under the first, after which
the previous secrets can go (README, "Rotating SECRET_KEY").
"""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from adapters.crypto import new_data_key
from adapters.tables.data_keys import DataKeyRows


class DataKeyErased(Exception):
    """The connection's personal values were erased: nothing may be encrypted for it."""


_ERASED = b""  # cached: the key was destroyed


class DataKeys:
    def __init__(
        self,
        rows: DataKeyRows,
        wrapping_keys: list[bytes],
        now: Callable[[], str],
        cache_size: int = 100_000,
        cache_seconds: float = 30.0,
    ) -> None:
        self.rows = rows
        self._ring = MultiFernet([Fernet(base64.urlsafe_b64encode(k)) for k in wrapping_keys])
        self._now = now
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def for_writing(self, connection_id: str) -> bytes:
        """The connection's key, made and stored on first use."""
        key = self._cached(connection_id)
        if key is None:
            row = self.rows.get(connection_id)
            if row is None:
                self.rows.add(connection_id, self._wrap(new_data_key()), self._now())
                row = self.rows.get(connection_id)  # ours, or another process's first
            key = self._remember(connection_id, row.wrapped_key if row else None)
        if key == _ERASED:
            raise DataKeyErased(connection_id)
        return key

    def for_reading(self, connection_id: str) -> bytes | None:
        """The connection's key; None once it is destroyed."""
        key = self._cached(connection_id)
        if key is None:
            row = self.rows.get(connection_id)
            key = self._remember(connection_id, row.wrapped_key if row else None)
        return None if key == _ERASED else key

    def destroy(self, connection_id: str) -> None:
        self.rows.destroy(connection_id, self._now())
        self.forget(connection_id)

    def forget(self, connection_id: str) -> None:
        with self._lock:
            self._cache.pop(connection_id, None)

    def rewrap(self) -> int:
        """Every stored key wrapped again under the current SECRET_KEY; how many moved."""
        moved, after = 0, ""
        while batch := self.rows.wrapped(after):
            for row in batch:
                assert row.wrapped_key is not None
                new = self._ring.rotate(row.wrapped_key.encode()).decode()
                moved += self.rows.rewrap(row.connection_id, row.wrapped_key, new)
            after = batch[-1].connection_id
        return moved

    def _wrap(self, key: bytes) -> str:
        return self._ring.encrypt(key).decode()

    def _cached(self, connection_id: str) -> bytes | None:
        with self._lock:
            cached = self._cache.get(connection_id)
            if cached is None:
                return None
            if cached[0] < time.monotonic():  # another process may have destroyed it
                del self._cache[connection_id]
                return None
            self._cache.move_to_end(connection_id)
            return cached[1]

    def _remember(self, connection_id: str, wrapped: str | None) -> bytes:
        if wrapped is None:
            return _ERASED  # not cached: a row may yet be written by another process
        try:
            key = self._ring.decrypt(wrapped.encode())
        except InvalidToken:
            raise RuntimeError(
                f"the data key of connection {connection_id} opens with no configured "
                "SECRET_KEY (set PREVIOUS_SECRET_KEYS during a rotation)"
            ) from None
        with self._lock:
            self._cache[connection_id] = (time.monotonic() + self._cache_seconds, key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return key

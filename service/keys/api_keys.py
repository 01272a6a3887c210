"""API keys: one tenant and a set of scopes each; stored as a hash, shown once; each
limited to a request rate."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from adapters.crypto import hash_api_key, new_token
from adapters.tables.api_keys import ApiKeyRecord
from adapters.tables.base import Tables
from adapters.tables.instants import iso

SCOPES: tuple[str, ...] = (
    "connections:read",
    "connections:write",
    "webhooks:manage",
    "audit:read",
    "credentials:read",
    "proxy:use",
    "admin",
)

TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    record: ApiKeyRecord
    secret: str  # shown once, never stored


class ApiKeys:
    """Keys are looked up by the hash of their secret. Where revocations are announced
    (PostgreSQL: `watch` starts a listener), live keys stay in memory: a request then costs
    no query, and a revocation in any process reaches every cache as soon as PostgreSQL
    delivers its notification (sent in the revoking transaction: in practice within
    milliseconds of the commit).
    While the listener is not in place (starting, reconnecting) every lookup queries the
    store, and each time it is back the cache starts empty, since a notification may have
    been lost meanwhile. The one window left is a connection that dies silently (no reset
    from the other end): the listener pings twice a second and gives up on an unanswered
    ping after 5 s (adapters.wakeup). On SQLite each lookup is a local index read: nothing
    is cached there."""

    cached_at_most = 10_000

    def __init__(self, tables: Tables, clock: Any, listener: Any = None) -> None:
        self.tables = tables
        self.hub = listener  # the process's adapters.wakeup.PostgresListener (PostgreSQL)
        self.clock = clock
        self._touched: dict[str, datetime] = {}
        self._live: dict[str, ApiKeyRecord] = {}  # hash of the secret -> its live key
        self._forgotten = 0  # moves at each invalidation: a lookup racing one is not kept
        self._guard = threading.Lock()
        self.listener: Any = None  # its subscription on the process's listener, once watching

    def watch(self) -> None:
        """Starts caching, hearing revocations on the process's listener, where the store
        announces them."""
        channel = self.tables.api_key_channel
        if channel is None or self.hub is None or self.listener is not None:
            return
        self.listener = self.hub.subscribe(
            channel, on_notify=self._forget, on_listen=self._forget_all
        )
        self.hub.start()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            self.listener = None
        self._forget_all()

    def _caching(self) -> bool:
        return self.listener is not None and self.listener.listening.is_set()

    def _forget(self, key_id: str) -> None:
        with self._guard:
            self._forgotten += 1
            self._live = {h: r for h, r in self._live.items() if r.id != key_id}

    def _forget_all(self) -> None:
        with self._guard:
            self._forgotten += 1
            self._live = {}

    def create(self, tenant_id: str, scopes: list[str], name: str = "") -> IssuedKey:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValueError(f"scopes must be among {', '.join(SCOPES)} (got {unknown or 'none'})")
        if not tenant_id.strip():
            raise ValueError("tenant must not be empty")
        secret = new_token("sk_", 32)
        record = ApiKeyRecord(
            id=f"key_{uuid4().hex[:16]}",
            tenant_id=tenant_id,
            name=name or "default",
            scopes=tuple(dict.fromkeys(scopes)),
            created_at=iso(self.clock.now()) or "",
            last_used_at=None,
            revoked_at=None,
        )
        self.tables.insert_api_key(record, hash_api_key(secret))
        return IssuedKey(record, secret)

    def cached(self, secret: str) -> ApiKeyRecord | None:
        """The live key with this secret if memory holds it, without touching the store
        (so the event loop may ask); None means: ask `authenticate`."""
        if not self._caching():
            return None
        return self._live.get(hash_api_key(secret))

    def authenticate(self, secret: str) -> ApiKeyRecord | None:
        """The live key with this secret. The secret is never compared: its SHA-256 is
        looked up, so how long a lookup takes depends on the hash, which an attacker
        cannot steer towards a stored one (that would take a preimage)."""
        key_hash = hash_api_key(secret)
        caching = self._caching()
        if caching:
            record = self._live.get(key_hash)
            if record is not None:
                return record
            seen = self._forgotten
        record = self.tables.api_key_by_hash(key_hash)
        if record is None or record.revoked_at is not None:
            return None
        if caching:
            with self._guard:
                if self._forgotten == seen and self._caching():
                    if len(self._live) >= self.cached_at_most:
                        self._live = {}
                    self._live[key_hash] = record
        return record

    def touch_due(self, record: ApiKeyRecord) -> bool:
        """Whether `touch` would write: last use is recorded at most once a minute per key."""
        last = self._touched.get(record.id)
        return last is None or self.clock.now() - last >= TOUCH_EVERY

    def touch(self, record: ApiKeyRecord) -> None:
        """Records last use at most once a minute per key, not a write per request."""
        if not self.touch_due(record):
            return
        now = self.clock.now()
        self._touched[record.id] = now
        self.tables.touch_api_key(record.id, iso(now) or "")

    def revoke(self, key_id: str) -> bool:
        revoked = self.tables.revoke_api_key(key_id, iso(self.clock.now()) or "")
        self._forget(key_id)  # this process at once; the others through the channel
        return revoked

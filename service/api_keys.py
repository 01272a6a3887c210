"""API keys: one tenant and a set of scopes each; stored as a hash, shown once; each
limited to a request rate."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from adapters.crypto import hash_api_key, new_token
from adapters.tables import ApiKeyRecord, Tables, iso

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
    def __init__(self, tables: Tables, clock: Any) -> None:
        self.tables = tables
        self.clock = clock
        self._touched: dict[str, datetime] = {}

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

    def authenticate(self, secret: str) -> ApiKeyRecord | None:
        """The live key with this secret. The secret is never compared: its SHA-256 is
        looked up, so how long a lookup takes depends on the hash, which an attacker
        cannot steer towards a stored one (that would take a preimage)."""
        record = self.tables.api_key_by_hash(hash_api_key(secret))
        if record is None or record.revoked_at is not None:
            return None
        return record

    def touch(self, record: ApiKeyRecord) -> None:
        """Records last use at most once a minute per key, not a write per request."""
        now = self.clock.now()
        last = self._touched.get(record.id)
        if last is not None and now - last < TOUCH_EVERY:
            return
        self._touched[record.id] = now
        self.tables.touch_api_key(record.id, iso(now) or "")

    def revoke(self, key_id: str) -> bool:
        return self.tables.revoke_api_key(key_id, iso(self.clock.now()) or "")


class RateLimiter:
    """A token bucket per API key, in this process: a key may spend `burst` requests at
    once and gets `per_second` back each second. `per_second` 0 turns the limit off."""

    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when)
        self._lock = threading.Lock()

    def wait(self, key_id: str) -> int:
        """0 when the request may go ahead (it spends a token); otherwise the whole
        seconds until the next token, for `Retry-After`."""
        if self.per_second <= 0:
            return 0
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(key_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
            if tokens >= 1:
                self._buckets[key_id] = (tokens - 1, now)
                return 0
            self._buckets[key_id] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.per_second))

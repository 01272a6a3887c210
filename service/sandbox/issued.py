"""What the sandbox issues (codes and tokens) carries the outcome the owner picked."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass

from service.sandbox.outcomes import APPROVE as SANDBOX_APPROVE
from service.sandbox.outcomes import SANDBOX_OUTCOMES


@dataclass(frozen=True)
class Grant:
    outcome: str
    selling_partner_id: str


def selling_partner_id_for(state: str) -> str:
    """Stable per connection: the service puts the connection id before the state's '.'."""
    digest = hashlib.sha256(state.split(".", 1)[0].encode()).digest()
    return "A" + base64.b32encode(digest).decode()[:13]


def is_id(value: str) -> bool:
    return value.isascii() and value.isalnum() and len(value) <= 32


def mint(prefix: str, grant: Grant) -> str:
    return f"{prefix}sbx.{grant.outcome}.{grant.selling_partner_id}.{secrets.token_urlsafe(24)}"


# Refresh tokens an integrator may import to try the sandbox (SPEC §7).
IMPORTABLE_PREFIX = "Atzr|sandbox-"


def read(value: str | None, prefix: str) -> Grant | None:
    if prefix == "Atzr|" and value and value.startswith(IMPORTABLE_PREFIX):
        partner = value[len(IMPORTABLE_PREFIX) :].split("-", 1)[0]
        return Grant(SANDBOX_APPROVE, partner) if is_id(partner) and partner else None
    if not value or not value.startswith(f"{prefix}sbx."):
        return None
    parts = value[len(prefix) :].split(".")
    if len(parts) != 4 or parts[1] not in SANDBOX_OUTCOMES or not is_id(parts[2]):
        return None
    return Grant(parts[1], parts[2])


class FirstTime:
    """Remembers values it has seen (bounded), for outcomes that happen only once."""

    def __init__(self, size: int = 10_000) -> None:
        self._seen: dict[str, None] = {}
        self._size = size
        self._lock = threading.Lock()

    def __call__(self, value: str) -> bool:
        with self._lock:
            if value in self._seen:
                return False
            if len(self._seen) >= self._size:
                self._seen.pop(next(iter(self._seen)))
            self._seen[value] = None
            return True

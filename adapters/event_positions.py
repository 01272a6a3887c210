"""Event positions as a tenant sees them: an opaque number per event, not the store's
global position (whose gaps told a tenant how many events everyone else recorded).

A keyed permutation of the 62-bit position space (a four-round Feistel network whose
round function is BLAKE2b keyed with a key derived from SECRET_KEY and the tenant), so
each tenant's numbers are its own, and `after=<position>` maps back exactly. 0 stays 0
("from the start"). Positions are cursors: page with `next_after`, compare nothing.
"""

from __future__ import annotations

import hashlib

BITS = 62
_HALF = BITS // 2
_MASK = (1 << _HALF) - 1
LARGEST = (1 << BITS) - 1
_ROUNDS = 4


class EventPositions:
    def __init__(self, key: bytes) -> None:
        self._key = key[:64]

    def hide(self, tenant_id: str, position: int) -> int:
        """The number `tenant_id` sees for the store's `position`."""
        if position == 0:
            return 0
        value = self._permute(tenant_id, position, forward=True)
        while value == 0:  # 0 is reserved for "the start": walk the cycle past it
            value = self._permute(tenant_id, value, forward=True)
        return value

    def reveal(self, tenant_id: str, shown: int) -> int:
        """The store's position behind a number `hide` gave `tenant_id`."""
        if shown == 0:
            return 0
        value = self._permute(tenant_id, shown, forward=False)
        while value == 0:
            value = self._permute(tenant_id, value, forward=False)
        return value

    def _round(self, tenant_id: str, i: int, half: int) -> int:
        digest = hashlib.blake2b(
            f"{tenant_id}\x00{i}\x00{half}".encode(), key=self._key, digest_size=8
        ).digest()
        return int.from_bytes(digest, "big") & _MASK

    def _permute(self, tenant_id: str, value: int, *, forward: bool) -> int:
        left, right = value >> _HALF, value & _MASK
        rounds = range(_ROUNDS) if forward else reversed(range(_ROUNDS))
        if forward:
            for i in rounds:
                left, right = right, left ^ self._round(tenant_id, i, right)
        else:
            for i in rounds:
                left, right = right ^ self._round(tenant_id, i, left), left
        return (left << _HALF) | right

"""Scripts' levers on the sandbox Amazon: revoking a seller's grant and throttling on demand.

After `POST /sandbox/amazon/grants/{selling_partner_id}/revoke` that seller's access tokens
are refused with 403 and its refreshes answer `invalid_grant`, as Amazon does once the owner
removes the app; `POST /sandbox/amazon/throttle` makes the seller's next SP-API calls answer
Amazon's 429, and sets the rate that seller's answers announce in `x-amzn-RateLimit-Limit`
(`rate_on_429: false` leaves it off the 429s, as Amazon does: it sends the header on 20x,
400 and 404 answers).

The service's sandbox keeps them in the store (adapters.tables.sandbox_levers), so every process of
a deployment answers alike; a sandbox router built alone (a test's Amazon peer) keeps them
in its memory (`MemoryLevers`).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, Protocol

import msgspec
from litestar import Response, post
from litestar.handlers import HTTPRouteHandler

from service.sandbox.issued import is_id

DEFAULT_RATE = "0.0167"  # getOrders' default usage plan (orders-api model: 0.0167 rps)


class Levers(Protocol):
    def revoke(self, selling_partner_id: str) -> None: ...
    def is_revoked(self, selling_partner_id: str) -> bool: ...
    def throttle(
        self, selling_partner_id: str, count: int, rate: str, rate_on_429: bool
    ) -> None: ...
    def take_throttle(self, selling_partner_id: str) -> tuple[str | None, bool] | None: ...
    def rate_of(self, selling_partner_id: str) -> str | None: ...


class MemoryLevers:
    """The levers of a sandbox that has no store: one process's memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revoked: set[str] = set()
        self._throttles: dict[str, tuple[int, bool]] = {}  # partner -> (429s left, announced)
        self._rates: dict[str, str] = {}

    def revoke(self, selling_partner_id: str) -> None:
        with self._lock:
            self._revoked.add(selling_partner_id)

    def is_revoked(self, selling_partner_id: str) -> bool:
        return selling_partner_id in self._revoked

    def throttle(self, selling_partner_id: str, count: int, rate: str, rate_on_429: bool) -> None:
        with self._lock:
            self._throttles[selling_partner_id] = (count, rate_on_429)
            self._rates[selling_partner_id] = rate

    def take_throttle(self, selling_partner_id: str) -> tuple[str | None, bool] | None:
        with self._lock:
            left, announced = self._throttles.get(selling_partner_id, (0, True))
            if left <= 0:
                return None
            self._throttles[selling_partner_id] = (left - 1, announced)
            return self._rates.get(selling_partner_id), announced

    def rate_of(self, selling_partner_id: str) -> str | None:
        return self._rates.get(selling_partner_id)


def rate_of(levers: Levers, selling_partner_id: str) -> str:
    """What the seller's answers announce in x-amzn-RateLimit-Limit."""
    return levers.rate_of(selling_partner_id) or DEFAULT_RATE


def throttled(levers: Levers, selling_partner_id: str) -> Response[Any] | None:
    """Amazon's 429 when a script asked for one for this seller, else None."""
    taken = levers.take_throttle(selling_partner_id)
    if taken is None:
        return None
    rate, announced = taken
    error = {
        "code": "QuotaExceeded",
        "message": "You exceeded your quota for the requested resource.",
    }
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if announced:
        headers["x-amzn-RateLimit-Limit"] = rate or DEFAULT_RATE
    return Response({"errors": [error]}, status_code=429, headers=headers)


class Throttle(msgspec.Struct, forbid_unknown_fields=True):
    selling_partner_id: str
    count: int = 1
    rate: float = float(DEFAULT_RATE)  # announced in x-amzn-RateLimit-Limit from now on
    rate_on_429: bool = True


def grants_routes(levers: Levers) -> list[HTTPRouteHandler]:
    @post("/grants/{selling_partner_id:str}/revoke", status_code=200, sync_to_thread=True)
    def revoke(selling_partner_id: str) -> dict[str, Any]:
        if not is_id(selling_partner_id):
            return Response({"error": "not a selling partner id"}, status_code=400)
        levers.revoke(selling_partner_id)
        return {"selling_partner_id": selling_partner_id, "revoked": True}

    @post("/throttle", status_code=200, sync_to_thread=True)
    def throttle(data: Throttle) -> dict[str, Any]:
        count = max(0, min(data.count, 100))
        levers.throttle(data.selling_partner_id, count, f"{data.rate:g}", data.rate_on_429)
        return {"selling_partner_id": data.selling_partner_id, "count": data.count}

    return [revoke, throttle]

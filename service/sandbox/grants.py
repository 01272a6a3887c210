"""Scripts' levers on the sandbox Amazon: revoking a seller's grant and throttling on demand.

Held in this process's memory (the sandbox serves one `make run`, or one test server):
after `POST /sandbox/amazon/grants/{selling_partner_id}/revoke` that seller's access tokens
are refused with 403 and its refreshes answer `invalid_grant`, as Amazon does once the owner
removes the app; `POST /sandbox/amazon/throttle` makes the seller's next SP-API calls answer
Amazon's 429, and sets the rate that seller's answers announce in `x-amzn-RateLimit-Limit`
(`rate_on_429: false` leaves it off the 429s, as Amazon does: it sends the header on 20x,
400 and 404 answers).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import msgspec
from litestar import Response, post
from litestar.handlers import HTTPRouteHandler

from service.sandbox.issued import is_id

_LOCK = threading.Lock()
_REVOKED: set[str] = set()
_THROTTLED: dict[str, tuple[int, bool]] = {}  # partner -> (429s still to answer, rate on them)
_RATES: dict[str, str] = {}  # partner -> the rate its answers announce, when a script set one
DEFAULT_RATE = "0.0167"  # getOrders' default usage plan (orders-api model: 0.0167 rps)


def is_revoked(selling_partner_id: str) -> bool:
    with _LOCK:
        return selling_partner_id in _REVOKED


def rate_of(selling_partner_id: str) -> str:
    """What the seller's answers announce in x-amzn-RateLimit-Limit."""
    with _LOCK:
        return _RATES.get(selling_partner_id, DEFAULT_RATE)


def throttled(selling_partner_id: str) -> Response[Any] | None:
    """Amazon's 429 when a script asked for one for this seller, else None."""
    with _LOCK:
        left, announced = _THROTTLED.get(selling_partner_id, (0, True))
        if left <= 0:
            return None
        _THROTTLED[selling_partner_id] = (left - 1, announced)
        rate = _RATES.get(selling_partner_id, DEFAULT_RATE)
    error = {
        "code": "QuotaExceeded",
        "message": "You exceeded your quota for the requested resource.",
    }
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if announced:
        headers["x-amzn-RateLimit-Limit"] = rate
    return Response({"errors": [error]}, status_code=429, headers=headers)


class Throttle(msgspec.Struct, forbid_unknown_fields=True):
    selling_partner_id: str
    count: int = 1
    rate: float = float(DEFAULT_RATE)  # announced in x-amzn-RateLimit-Limit from now on
    rate_on_429: bool = True


def grants_routes() -> list[HTTPRouteHandler]:
    @post("/grants/{selling_partner_id:str}/revoke", status_code=200, sync_to_thread=False)
    def revoke(selling_partner_id: str) -> dict[str, Any]:
        if not is_id(selling_partner_id):
            return Response({"error": "not a selling partner id"}, status_code=400)
        with _LOCK:
            _REVOKED.add(selling_partner_id)
        return {"selling_partner_id": selling_partner_id, "revoked": True}

    @post("/throttle", status_code=200, sync_to_thread=False)
    def throttle(data: Throttle) -> dict[str, Any]:
        with _LOCK:
            _THROTTLED[data.selling_partner_id] = (max(0, min(data.count, 100)), data.rate_on_429)
            _RATES[data.selling_partner_id] = f"{data.rate:g}"
        return {"selling_partner_id": data.selling_partner_id, "count": data.count}

    return [revoke, throttle]

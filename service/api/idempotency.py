"""`Idempotency-Key` on POST: the same key and body replay the first response; the same
key with another body is refused; two concurrent requests with one key never both run."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response

from adapters.tables import iso
from domain.exceptions import DomainError
from service.connections import Caller

JSON = "application/json"
Outcome = tuple[int, dict[str, Any], dict[str, str]]


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"


def respond(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type=JSON, headers=headers)


def idempotent(
    request: Request, caller: Caller, payload: Any, produce: Callable[[], Outcome]
) -> Response:
    key = request.headers.get("idempotency-key")
    if key is None:
        return respond(*produce())
    if not 1 <= len(key) <= 255:
        raise DomainError("Idempotency-Key must be 1 to 255 characters.", code="VALIDATION_ERROR")
    services = request.app.state.services
    tables = services.tables
    fingerprint = hashlib.sha256(
        request.method.encode() + request.url.path.encode() + msgspec.json.encode(payload)
    ).hexdigest()
    if not tables.reserve_idempotency_key(
        caller.tenant_id, key, fingerprint, iso(services.clock.now()) or ""
    ):
        saved = tables.idempotent_response(caller.tenant_id, key)
        if saved is None or saved["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different request; use a new "
                "key for a new request."
            )
        if saved["status"] == 0:
            raise IdempotencyKeyReused(
                "A request with this Idempotency-Key is still in progress; retry shortly.",
                status=409,
            )
        return Response(
            saved["body"].encode(),
            status_code=saved["status"],
            media_type=JSON,
            headers={**saved["headers"], "Idempotent-Replayed": "true"},
        )
    try:
        status, body, headers = produce()
    except BaseException:
        tables.release_idempotency_key(caller.tenant_id, key)
        raise
    encoded = msgspec.json.encode(body)
    tables.complete_idempotency_key(caller.tenant_id, key, status, encoded.decode(), headers)
    return Response(encoded, status_code=status, media_type=JSON, headers=headers)

"""`Idempotency-Key` on POST: the same key and body replay the first response; the same
key with another body is refused; two concurrent requests with one key never both run."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from litestar import Request, Response

from adapters.tables.instants import iso
from domain.exceptions import DomainError
from service.api.caller import Caller

JSON = "application/json"
# Longer than any request runs (the store's and Amazon's timeouts included): a key still
# reserved after this belongs to a request that died without recording its response.
IN_PROGRESS_AT_MOST = timedelta(minutes=2)
Outcome = tuple[int, dict[str, Any], dict[str, str]]


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"


def respond(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type=JSON, headers=headers)


def _opened(services: Any, stored: str) -> str:
    """A stored response is Fernet ciphertext (a consent URL in it carries the signed
    state); records written before that are plain JSON."""
    return stored if stored.startswith("{") else services.box.decrypt(stored)


def idempotent(
    request: Request,
    caller: Caller,
    payload: Any,
    produce: Callable[[], Outcome],
    reveal: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Response:
    """`reveal` adds to the body what must not be stored with the saved response (the
    owner's invitation link), on the first answer and on every replay."""
    reveal = reveal or (lambda body: body)
    key = request.headers.get("idempotency-key")
    if key is None:
        status, body, headers = produce()
        return respond(status, reveal(body), headers)
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
            started = datetime.fromisoformat(saved["created_at"])
            if services.clock.now() - started < IN_PROGRESS_AT_MOST:
                raise IdempotencyKeyReused(
                    "A request with this Idempotency-Key is still in progress; retry shortly.",
                    situation="outstanding",
                )
            # The first request never recorded its response: the database went away
            # while it ran, after or before its commit. Retrying could do it twice.
            raise IdempotencyKeyReused(
                "The first request with this Idempotency-Key did not finish (the service "
                "lost its database while it ran), so whether it took effect is unknown. "
                "Read the connection to see, then send a new key if it is still needed.",
                situation="outstanding",
                outcome="unknown",
            )
        return Response(
            msgspec.json.encode(reveal(msgspec.json.decode(_opened(services, saved["body"])))),
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
    tables.complete_idempotency_key(
        caller.tenant_id, key, status, services.box.encrypt(encoded.decode()), headers
    )
    return respond(status, reveal(body), headers)

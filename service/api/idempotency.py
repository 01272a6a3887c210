"""`Idempotency-Key` on POST: the same key and body replay the first response; the same
key with another body is refused; two concurrent requests with one key never both run.

A route calls down and gets answers back, never the other way round:

    once = begin(request, caller, data)
    if once.replayed is not None:
        return once.replayed
    with once:
        connection = service.create(...)
        return once.respond(201, body, headers)
"""

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


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"


def respond(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type=JSON, headers=headers)


def _opened(services: Any, stored: str) -> str:
    """A stored response is Fernet ciphertext (a consent URL in it carries the signed
    state); records written before that are plain JSON."""
    return stored if stored.startswith("{") else services.box.decrypt(stored)


class Once:
    """A POST under way, said once whatever its Idempotency-Key: the route asks `replayed`
    (the first response, when this repeats it), then does its work and answers with
    `respond`, which records that response for the key. Used as a context manager around
    the work: a request that fails before responding gives its key back."""

    def __init__(
        self,
        request: Request,
        key: str | None,
        caller: Caller,
        reveal: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        self.request = request
        self.key = key
        self.caller = caller
        self.reveal = reveal
        self.replayed: Response | None = None
        self._responded = False

    def respond(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
        self._responded = True  # a failure from here on keeps the key: the work was done
        if self.key is not None:
            services = self.request.app.state.services
            encoded = msgspec.json.encode(body)
            services.tables.complete_idempotency_key(
                self.caller.tenant_id,
                self.key,
                status,
                services.box.encrypt(encoded.decode()),
                headers,
            )
        return respond(status, self.reveal(body), headers)

    def __enter__(self) -> Once:
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if kind is not None and self.key is not None and not self._responded:
            self.request.app.state.services.tables.release_idempotency_key(
                self.caller.tenant_id, self.key
            )


def begin(
    request: Request,
    caller: Caller,
    payload: Any,
    reveal: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Once:
    """Reserves the request's Idempotency-Key, or finds the response it already had.
    `reveal` adds to the body what must not be stored with the saved response (the
    owner's invitation link), on the first answer and on every replay."""
    reveal = reveal or (lambda body: body)
    key = request.headers.get("idempotency-key")
    once = Once(request, key, caller, reveal)
    if key is None:
        return once
    if not 1 <= len(key) <= 255:
        raise DomainError("Idempotency-Key must be 1 to 255 characters.", code="VALIDATION_ERROR")
    services = request.app.state.services
    tables = services.tables
    fingerprint = hashlib.sha256(
        request.method.encode() + request.url.path.encode() + msgspec.json.encode(payload)
    ).hexdigest()
    if tables.reserve_idempotency_key(
        caller.tenant_id, key, fingerprint, iso(services.clock.now()) or ""
    ):
        return once
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
    once.replayed = Response(
        msgspec.json.encode(reveal(msgspec.json.decode(_opened(services, saved["body"])))),
        status_code=saved["status"],
        media_type=JSON,
        headers={**saved["headers"], "Idempotent-Replayed": "true"},
    )
    return once

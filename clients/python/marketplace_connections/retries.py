"""Retries on 429 and 503 below the generated client, in httpx's transport: the request
sent again is the very same one, so an `Idempotency-Key` it carries is kept across them.

Only a request that is safe to repeat is retried: GET, HEAD, OPTIONS, PUT, DELETE, or one
carrying an `Idempotency-Key` (the service answers a repeat with the first response). A
POST or PATCH without one is never sent twice. `Retry-After` (seconds or an HTTP date) is
honoured; when it asks for longer than `max_wait` the response is returned as it is."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

RETRIED_STATUSES = frozenset({429, 503})
REPEATABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def repeatable(request: httpx.Request) -> bool:
    return request.method in REPEATABLE_METHODS or "idempotency-key" in request.headers


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is true, and float() refuses it
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": a time in UTC whose zone is not said
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryTransport(httpx.BaseTransport):
    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        max_retries: int = 3,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            response = self.inner.handle_request(request)
            if (
                response.status_code not in RETRIED_STATUSES
                or attempt >= self.max_retries
                or not repeatable(request)
            ):
                return response
            wait = retry_after_seconds(response.headers.get("retry-after"))
            if wait is None:  # no advice: exponential backoff with full jitter
                wait = random.uniform(0, min(self.max_wait, 0.5 * 2**attempt))
            if wait > self.max_wait:
                return response
            response.read()
            response.close()
            self.sleep(wait)
            attempt += 1

    def close(self) -> None:
        self.inner.close()

"""Every request to Amazon goes through `send`: one timeout, one retry policy.

Only answers that may succeed on a second try are retried: 429, 5xx and transport errors
(connection refused, reset, timeout). A 4xx is Amazon's final word and is returned at once.
Nothing about the request (headers, form) is logged: it carries tokens and secrets.
"""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import UTC, datetime

import httpx

from adapters.amazon.errors import AmazonError
from adapters.amazon.settings import AmazonSettings

log = logging.getLogger(__name__)


def send(
    http: httpx.Client,
    settings: AmazonSettings,
    method: str,
    url: str,
    *,
    operation: str,
    **kwargs: object,
) -> httpx.Response:
    attempts = settings.max_retries + 1
    for attempt in range(1, attempts + 1):
        retry_after: float | None = None
        try:
            response = http.request(method, url, timeout=settings.timeout, **kwargs)
        except httpx.TransportError as exc:
            reason = type(exc).__name__
        else:
            if not _retryable(response.status_code):
                return response
            reason = f"HTTP {response.status_code}"
            retry_after = _retry_after(response.headers.get("retry-after"))
        if attempt == attempts:
            break
        delay = settings.backoff * 2 ** (attempt - 1)
        if retry_after is not None:
            delay = min(retry_after, settings.max_retry_after)
        log.warning(
            "amazon %s: %s; retry %d/%d in %.2fs",
            operation,
            reason,
            attempt,
            settings.max_retries,
            delay,
        )
        time.sleep(delay)
    raise AmazonError("AMAZON_UNAVAILABLE", f"{operation}: {reason} after {attempts} attempts")


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

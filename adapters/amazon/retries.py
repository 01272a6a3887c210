"""Every request to Amazon goes through `send`: one timeout, one retry policy.

Only answers that may succeed on a second try are retried: 429, 5xx and transport errors
(connection refused, reset, timeout). A 4xx is Amazon's final word and is returned at once.
Nothing about the request (headers, form) is logged: it carries tokens and secrets.

A request that must not run twice (the exchange of a single-use authorization code) is sent
again only when Amazon surely did not act on it: the connection was never made, or Amazon
answered 429 or 503 (refused before processing, RFC 9110 §15.6.4). After a timeout while
waiting for the answer, a dropped connection or another 5xx, the code may already be spent,
so it is not resent and the caller learns that the outcome is unknown.

How long to wait between attempts is adapters.amazon.waits' rule (the proxy's too), capped
at `max_retry_after`.
"""

from __future__ import annotations

import logging
import time

import httpx

from adapters.amazon.errors import AmazonError
from adapters.amazon.settings import AmazonSettings
from adapters.amazon.throttle import RateLimits
from adapters.amazon.waits import wait_before_retry

log = logging.getLogger(__name__)


def send(
    http: httpx.Client,
    settings: AmazonSettings,
    method: str,
    url: str,
    *,
    operation: str,
    resend_after_sent: bool = True,
    limits: RateLimits | None = None,
    seller: str | None = None,
    **kwargs: object,
) -> httpx.Response:
    attempts = settings.max_retries + 1
    for attempt in range(1, attempts + 1):
        if limits is not None:
            _take(limits, settings, seller, operation)
        retry_after: str | None = None
        rate: float | None = None
        try:
            response = http.request(method, url, timeout=settings.timeout, **kwargs)
        except httpx.TransportError as exc:
            reason = type(exc).__name__
            if not resend_after_sent and not _never_sent(exc):
                raise _unknown_outcome(operation, reason) from None
        else:
            if limits is not None:
                limits.learn(operation, response.headers.get("x-amzn-ratelimit-limit"))
            if not _retryable(response.status_code):
                return response
            reason = f"HTTP {response.status_code}"
            if not resend_after_sent and response.status_code not in (429, 503):
                raise _unknown_outcome(operation, reason)
            retry_after = response.headers.get("retry-after")
            if response.status_code == 429 and limits is not None:
                rate = limits.rate(operation)
        if attempt == attempts:
            break
        delay = min(
            wait_before_retry(retry_after, rate, attempt, backoff=settings.backoff),
            settings.max_retry_after,
        )
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


def _never_sent(exc: httpx.TransportError) -> bool:
    """The request never left: no connection (refused, no route, DNS) or it timed out."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _unknown_outcome(operation: str, reason: str) -> AmazonError:
    return AmazonError(
        "AMAZON_UNAVAILABLE",
        f"{operation}: {reason} after the request may have reached Amazon; not resent "
        "because it must not run twice, so whether Amazon acted on it is unknown",
    )


def _take(limits: RateLimits, settings: AmazonSettings, seller: str | None, op: str) -> None:
    wait = limits.take(seller or "-", op)
    if wait > settings.max_retry_after:
        raise AmazonError(
            "AMAZON_UNAVAILABLE",
            f"{op}: this seller's share of Amazon's rate for the operation is spent; "
            f"next request possible in {wait:.1f}s",
        )
    if wait > 0:
        time.sleep(wait)
        limits.take(seller or "-", op)


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500

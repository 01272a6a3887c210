"""How long to wait before asking Amazon again: one rule for the adapter's own calls
(adapters.amazon.retries) and the proxy's (service.credentials.forward).

Amazon's `Retry-After` when it gives one. Else, after a 429, one request's worth of quota
at the operation's rate, doubled per retry: Amazon leaves `x-amzn-RateLimit-Limit` off its
429s, so the rate is the one the operation announced before (adapters.amazon.throttle
learns it), and doubling leaves room to the other callers spending the same bucket. Else
the caller's backoff, doubled per retry. What to do with a wait too long to hold a caller
for (cap it, or give up) is the caller's choice.
"""

from __future__ import annotations

from datetime import datetime

from adapters.retry_after import retry_after_seconds


def wait_before_retry(
    retry_after: str | None,
    rate: float | None,
    attempt: int,
    *,
    backoff: float,
    now: datetime | None = None,
) -> float:
    """Seconds before retry number `attempt` (1 for the first). `rate` is the operation's
    requests per second after a 429, None when unknown or for any other answer."""
    told = retry_after_seconds(retry_after, now)
    if told is not None:
        return told
    base = 1.0 / rate if rate else backoff
    return base * 2 ** (attempt - 1)

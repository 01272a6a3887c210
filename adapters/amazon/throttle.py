"""Amazon's usage plans as this process sees them: the rate each operation was last given,
and a small token bucket per selling partner and operation.

SP-API limits each operation with a token bucket per application and selling partner
("Usage Plans and Rate Limits in the Selling Partner API", amzn/selling-partner-api-docs,
guides/en-US/usage-plans-rate-limits, and developer-docs.amazon.com/sp-api/docs/
usage-plans-and-rate-limits-in-the-sp-api). `x-amzn-RateLimit-Limit` carries the rate in
requests per second on 20x, 400 and 404 answers only, best effort: never on the 429 itself.
So the rate is learned from earlier answers of the same operation, and a 429 waits for one
token of that rate to come back (adapters.amazon.waits). The bucket here keeps one seller's
burst (or one runaway caller) from spending the app's share for that seller before Amazon
throttles it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# Default usage plans published in the models (e.g. sellers.json: getMarketplaceParticipations
# and getAccount, 0.016 requests per second, burst 15). Unknown operations are not limited
# until Amazon tells us their rate.
DEFAULT_PLANS: dict[str, tuple[float, int]] = {
    "getMarketplaceParticipations": (0.016, 15),
    "getAccount": (0.016, 15),
}
DEFAULT_BURST = 10


def parse_rate(value: str | None) -> float | None:
    """Requests per second from `x-amzn-RateLimit-Limit` (e.g. "0.0167"), if usable."""
    try:
        rate = float(value or "")
    except ValueError:
        return None
    return rate if 0 < rate < 1e6 else None


@dataclass
class _Bucket:
    rate: float
    burst: int
    tokens: float
    at: float


class RateLimits:
    """Thread-safe: one per `AmazonClient`, shared by every request it sends."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rates: dict[str, float] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def learn(self, operation: str, header: str | None) -> None:
        rate = parse_rate(header)
        if rate is not None:
            with self._lock:
                self._rates[operation] = rate

    def rate(self, operation: str) -> float | None:
        with self._lock:
            known = self._rates.get(operation)
        if known is None and operation in DEFAULT_PLANS:
            return DEFAULT_PLANS[operation][0]
        return known

    def take(self, seller: str, operation: str) -> float:
        """Spend a token for `seller`'s `operation`; 0.0, or the seconds until one is free.

        A caller that waits the returned time and calls again gets its token then.
        """
        rate = self.rate(operation)
        if rate is None:
            return 0.0
        burst = DEFAULT_PLANS.get(operation, (rate, DEFAULT_BURST))[1]
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get((seller, operation))
            if bucket is None:
                bucket = _Bucket(rate, burst, float(burst), now)
                self._buckets[(seller, operation)] = bucket
            bucket.rate = rate
            bucket.tokens = min(bucket.burst, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / rate

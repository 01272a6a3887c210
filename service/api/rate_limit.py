"""Each API key limited to a request rate, in this process."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """A token bucket per API key, in this process: a key may spend `burst` requests at
    once and gets `per_second` back each second. `per_second` 0 turns the limit off."""

    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when)
        self._lock = threading.Lock()

    def wait(self, key_id: str) -> int:
        """0 when the request may go ahead (it spends a token); otherwise the whole
        seconds until the next token, for `Retry-After`."""
        if self.per_second <= 0:
            return 0
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(key_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
            if tokens >= 1:
                self._buckets[key_id] = (tokens - 1, now)
                return 0
            self._buckets[key_id] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.per_second))

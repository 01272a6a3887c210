"""The proxy: a backend's call to Amazon, sent with the connection's access, streamed both ways.

Only the connection's regional SP-API or Ads host is reached (the path is appended to it and
checked to stay under it). Headers cross by allow-list (below), so the caller's
Authorization and cookies, hop-by-hop headers and Amazon's Set-Cookie never do. What is
added: the access token (`x-amz-access-token` for the SP-API; `Authorization: Bearer` with
`Amazon-Advertising-API-ClientId` and `-Scope` for Ads), and a User-Agent in the form the
SP-API guide asks for ("AppName/AppVersion (Language=LanguageName)", developer-docs
"Include a User-Agent header in all requests").

Throttling: a 429 is retried up to the caller's `X-Throttle-Retries` (0 to 5, default 2),
waiting as the adapter's own calls do (adapters.amazon.waits: Amazon's Retry-After, else one
request's worth at the `x-amzn-RateLimit-Limit` rate, doubled per retry), then Amazon's 429
is returned. Amazon sends that header on 20x, 400 and 404 answers, not on the 429 itself,
so the rate is the one the operation last announced, as the adapter's `RateLimits` learned
it from any answer (the proxy's and the adapter's own calls alike).

Restricted operations (amzn/selling-partner-api-models, tokens_2021-03-01.json:
getOrderAddress, getOrderBuyerInfo, getOrderItemsBuyerInfo, getShipment) are sent with a
Restricted Data Token from the Tokens API.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from litestar.exceptions import InternalServerException

from adapters.amazon.relay import same_origin
from adapters.tables.forbidden_checks import ForbiddenChecks
from adapters.tables.instants import iso
from domain.access import ADS
from domain.exceptions import DomainError, ValidationFailed
from service.credentials.access_log import operation_of

USER_AGENT = "MarketplaceConnections/1.0 (Language=Python)"
MAX_THROTTLE_RETRIES = 5
DEFAULT_THROTTLE_RETRIES = 2
COOLDOWN = timedelta(minutes=1)  # after a 403: one refresh and one check (SPEC §12)
MAX_THROTTLE_WAIT = 10.0  # seconds per wait; a longer one returns Amazon's 429 at once
THROTTLE_BACKOFF = 1.0  # seconds before the first retry when Amazon told neither wait nor rate
REPLAYABLE_BODY = 1024 * 1024  # bodies up to this size are kept to resend after a 429

# What crosses, by allow-list (SPEC §9): to Amazon, the caller's content negotiation and
# `x-amz-*` (its own `x-amz-access-token` never: the service sets the token); back, Amazon's
# `x-amzn-*` and `x-amz-rid` and the body's own headers. Anything else (a Location, CORS or
# HSTS header, Refresh, Set-Cookie, the caller's Origin, Referer or X-Real-IP) stays on its
# side. Content-Length goes to Amazon only with a body the proxy forwards.
_FROM_CALLER = frozenset({"accept", "accept-encoding", "content-type"})
_FROM_AMAZON = frozenset({"x-amz-rid", "content-type", "content-encoding", "content-length"})
_AS_DATA = (
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", "default-src 'none'; sandbox"),
)


def _connection_named(headers: Any) -> set[str]:
    """Every header a `Connection` header names, across all of them (RFC 9110 §7.6.1): a
    hop-by-hop header is dropped even when its name would be allowed."""
    values = (
        headers.getall("connection", [])
        if hasattr(headers, "getall")
        else (headers.get_list("connection"))
    )
    return {n.strip().lower() for value in values for n in value.split(",") if n.strip()}


def _to_amazon_allowed(name: str) -> bool:
    return name in _FROM_CALLER or (name.startswith("x-amz-") and name != "x-amz-access-token")


def _to_caller_allowed(name: str) -> bool:
    return name in _FROM_AMAZON or name.startswith("x-amzn-")


_RESTRICTED = [
    re.compile(p)
    for p in (
        r"^/orders/v0/orders/[^/]+/address$",
        r"^/orders/v0/orders/[^/]+/buyerInfo$",
        r"^/orders/v0/orders/[^/]+/orderItems/buyerInfo$",
        r"^/mfn/v0/shipments/[^/]+$",
    )
]


def restricted(method: str, path: str) -> bool:
    return method == "GET" and any(p.match(path) for p in _RESTRICTED)


_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20]")


def check_path(path: str) -> None:
    """Refuses any path that could leave the base it is appended to (dot segments, encoded
    slashes or dots, a scheme or authority smuggled in)."""
    lowered = path.lower()
    segments = path.split("/")
    if (
        not path.startswith("/")
        or path.startswith("//")
        or any(s in (".", "..") for s in segments)
        or "%2f" in lowered
        or "%2e" in lowered
        or "%5c" in lowered
        or "\\" in path
        or _SPACE_OR_CONTROL.search(path) is not None
    ):
        raise ValidationFailed(
            "The proxied path must be an absolute path on Amazon's API, without dot "
            "segments or encoded slashes.",
            field="path",
        )


def target_url(base: str, path: str, query: str) -> str:
    """`base` + `path` (checked), and proof that the result is still on `base`'s host."""
    check_path(path)
    url = base.rstrip("/") + path + (f"?{query}" if query else "")
    if not same_origin(url, base):
        raise ValidationFailed("The proxied path leaves Amazon's host.", field="path")
    return url


def throttle_retries(value: str | None) -> int:
    if value is None:
        return DEFAULT_THROTTLE_RETRIES
    digits = value.strip()
    # ASCII digits only: `isdigit` also takes "²" (which int() refuses) and "٣" (which it
    # reads as 3). Counting the digits first keeps int() clear of its 4300-digit limit.
    if (
        not (digits.isascii() and digits.isdigit())
        or len(digits.lstrip("0")) > len(str(MAX_THROTTLE_RETRIES))
        or int(digits) > MAX_THROTTLE_RETRIES
    ):
        raise ValidationFailed(
            f"X-Throttle-Retries must be a whole number from 0 to {MAX_THROTTLE_RETRIES}.",
            field="X-Throttle-Retries",
        )
    return int(digits)


def to_amazon(headers: Any, *, content_length: str | None = None) -> dict[str, str]:
    """The caller's headers Amazon gets; `content_length` when a body is forwarded."""
    hop = _connection_named(headers)
    kept = {
        k: v for k, v in headers.items() if _to_amazon_allowed(k.lower()) and k.lower() not in hop
    }
    return {**kept, "content-length": content_length} if content_length else kept


def to_caller(headers: Any) -> list[tuple[str, str]]:
    """Amazon's answer headers (a multidict: a header may repeat, `items()` yields each)
    the caller gets, and ours that keep an answer data: even an HTML body never runs as a
    page of this origin."""
    hop = _connection_named(headers)
    kept = [
        (k, v) for k, v in headers.items() if _to_caller_allowed(k.lower()) and k.lower() not in hop
    ]
    return [*kept, *_AS_DATA]


def access_headers(
    api: str, access_token: str, client_id: str, profile_id: str | None
) -> dict[str, str]:
    if api == ADS:
        headers = {
            "authorization": f"Bearer {access_token}",
            "amazon-advertising-api-clientid": client_id,
        }
        if profile_id:
            headers["amazon-advertising-api-scope"] = profile_id
    else:
        headers = {"x-amz-access-token": access_token}
    return {**headers, "user-agent": USER_AGENT}


# The adapter's names of operations the proxy carries too, so that both share one learned
# rate and the usage plans declared in adapters.amazon.throttle.
_ADAPTER_OPERATIONS = {
    "sp-api GET /sellers/v1/marketplaceParticipations": "getMarketplaceParticipations",
    "sp-api GET /sellers/v1/account": "getAccount",
}


def rate_operation(api: str, method: str, path: str) -> str:
    """The operation whose usage plan a call spends: its API, method and path template."""
    key = f"{api} {method} {operation_of(path)}"
    return _ADAPTER_OPERATIONS.get(key, key)


@dataclass
class Body:
    """The caller's body, streamed to Amazon on the first attempt and kept (when small)
    so a throttled call can be sent again."""

    source: AsyncIterator[bytes] | None
    kept: bytearray = field(default_factory=bytearray)
    complete: bool = False
    overflow: bool = False
    # What stopped the caller's body (a 408 or 413 of the edge's, or ours): the relay's
    # client reports a body that broke off as a failed send, and the caller is told this.
    failure: Exception | None = None

    async def stream(self) -> AsyncIterator[bytes]:
        if self.source is None:
            self.complete = True
            return
        try:
            async for chunk in self.source:
                if not self.overflow:
                    if len(self.kept) + len(chunk) <= REPLAYABLE_BODY:
                        self.kept.extend(chunk)
                    else:
                        self.overflow = True
                        self.kept.clear()
                yield chunk
        except InternalServerException:  # litestar's "client disconnected prematurely": the
            # edge gave up on a slow body (its 408 is already sent), or the caller went away
            self.failure = DomainError(
                "The request's body stopped arriving before its end.", code="REQUEST_TIMEOUT"
            )
            raise self.failure from None
        except Exception as e:  # too large (413), or anything else the edge raised
            self.failure = e
            raise
        self.complete = True

    @property
    def replayable(self) -> bool:
        return self.complete and not self.overflow

    def again(self) -> bytes:
        return bytes(self.kept)


async def sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class ForbiddenCooldown:
    """At most one refresh-and-check per connection per `period` after Amazon's 403s: the
    refresh and the Sellers probe spend LWA's and the seller's quotas, which every tenant
    sharing the seller shares (SPEC §12). Within the cool-down Amazon's 403 is returned as it
    is. The store keeps the cool-down, so every process shares it; this process's memory
    only spares the store a write for the 403s that follow one it took itself."""

    def __init__(self, checks: ForbiddenChecks, clock: Any, period: timedelta = COOLDOWN) -> None:
        self.checks = checks
        self.clock = clock
        self.period = period
        self._taken: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def take(self, connection_id: str) -> bool:
        """True (and the cool-down starts, for every process) when a refresh-and-check may
        go ahead now. Reads and writes the store: call it from a worker thread."""
        now = self.clock.now()
        with self._lock:
            last = self._taken.get(connection_id)
            if last is not None and now - last < self.period:
                return False
        if not self.checks.take(connection_id, iso(now) or "", iso(now - self.period) or ""):
            return False
        with self._lock:
            if len(self._taken) >= 10_000:  # bounded: forget the cool-downs already over
                self._taken = {k: v for k, v in self._taken.items() if now - v < self.period}
            self._taken[connection_id] = now
        return True

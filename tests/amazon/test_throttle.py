"""The per-seller, per-operation limiter: one seller's burst leaves other sellers alone."""

from __future__ import annotations

from adapters.amazon.throttle import RateLimits, parse_rate
from adapters.amazon.waits import wait_before_retry


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_sellers_burst_spends_only_its_own_bucket() -> None:
    clock = FakeClock()
    limits = RateLimits(clock=clock)
    # sellers.json's default usage plan: 0.016 requests per second, burst 15.
    assert [limits.take("A1SELLER", "getAccount") for _ in range(15)] == [0.0] * 15
    assert round(limits.take("A1SELLER", "getAccount"), 1) == 62.5
    assert limits.take("A2OTHER", "getAccount") == 0.0
    assert limits.take("A1SELLER", "getMarketplaceParticipations") == 0.0
    clock.now += 62.5
    assert limits.take("A1SELLER", "getAccount") == 0.0


def test_the_rate_amazon_announces_replaces_the_default() -> None:
    clock = FakeClock()
    limits = RateLimits(clock=clock)
    limits.learn("getAccount", "2.0")
    for _ in range(15):
        limits.take("A1SELLER", "getAccount")
    assert limits.take("A1SELLER", "getAccount") == 0.5
    assert wait_before_retry(None, limits.rate("getAccount"), 1, backoff=1.0) == 0.5
    limits.learn("getAccount", "garbage")
    assert limits.rate("getAccount") == 2.0


def test_an_operation_of_unknown_rate_is_not_limited() -> None:
    limits = RateLimits()
    assert all(limits.take("A1SELLER", "Ads listProfiles") == 0.0 for _ in range(100))
    assert limits.rate("Ads listProfiles") is None
    assert [parse_rate(v) for v in ("0.0167", "0", "-1", "", None, "inf")] == [
        0.0167,
        None,
        None,
        None,
        None,
        None,
    ]

"""The one wait before asking Amazon again (adapters.amazon.waits), used by the adapter's
own calls and by the proxy alike, and the strict reading of Retry-After beneath it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.amazon.waits import wait_before_retry
from adapters.retry_after import retry_after_seconds

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_amazons_retry_after_in_seconds_is_the_wait_whatever_the_rate_or_attempt() -> None:
    assert wait_before_retry("7", 20.0, 3, backoff=1.0) == 7.0
    assert wait_before_retry(" 0 ", None, 1, backoff=1.0) == 0.0


def test_amazons_retry_after_as_an_http_date_waits_until_then_and_never_negatively() -> None:
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    earlier = format_datetime(NOW - timedelta(seconds=90), usegmt=True)
    assert wait_before_retry(later, None, 1, backoff=1.0, now=NOW) == 90.0
    assert wait_before_retry(earlier, None, 1, backoff=1.0, now=NOW) == 0.0


def test_without_retry_after_a_throttled_call_waits_one_request_at_the_rate_doubled_per_retry():
    # 20 requests per second: a request's worth of quota is back in 50 ms.
    assert [wait_before_retry(None, 20.0, n, backoff=1.0) for n in (1, 2, 3)] == [
        0.05,
        0.1,
        0.2,
    ]


def test_without_retry_after_or_a_rate_the_callers_backoff_doubles_per_retry() -> None:
    assert [wait_before_retry(None, None, n, backoff=0.5) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    "value",
    ["²", "٣", "1²", "-1", "1.5", "inf", "nan", "0x10", "soon", "", "   ", "Wed, 99 Foo 2026"],
)
def test_a_retry_after_that_is_not_ascii_digits_or_an_http_date_is_not_said(value: str) -> None:
    assert retry_after_seconds(value, NOW) is None
    assert wait_before_retry(value, None, 1, backoff=1.0, now=NOW) == 1.0


def test_an_absurdly_long_retry_after_is_forever_not_an_error() -> None:
    assert retry_after_seconds("9" * 5000, NOW) == float("inf")


@given(st.text())
def test_any_retry_after_text_is_a_wait_of_zero_or_more_or_not_said(value: str) -> None:
    seconds = retry_after_seconds(value, NOW)
    assert seconds is None or seconds >= 0

"""How the real AmazonClient waits and retries against the sandbox Amazon: 503s and refused
connections retried with backoff, a 400 not at all, Retry-After up to its cap, a
throttled call waiting one token of the announced rate."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator

import httpx
import pytest

from adapters.amazon import AmazonClient, AmazonError, AmazonSettings
from tests.amazon.sandbox_server import STATE, redirect_of, sandbox_amazon


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with sandbox_amazon() as url:
        yield url


def test_a_503_is_retried_with_backoff_then_amazon_is_unavailable(base_url: str) -> None:
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with AmazonClient(AmazonSettings.sandbox(base_url), http) as amazon:
        callback = redirect_of(
            f"{amazon.consent_url('na', STATE)}&sandbox_outcome=AMAZON_UNAVAILABLE"
        )
        with pytest.raises(AmazonError) as raised:
            amazon.exchange_code(callback["spapi_oauth_code"])
    assert raised.value.code == "AMAZON_UNAVAILABLE"
    assert len(sent) == amazon.settings.max_retries + 1
    assert callback["spapi_oauth_code"] not in str(raised.value)


def test_a_400_is_not_retried(base_url: str) -> None:
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with AmazonClient(AmazonSettings.sandbox(base_url), http) as amazon:
        callback = redirect_of(
            f"{amazon.consent_url('na', STATE)}&sandbox_outcome=AUTHORIZATION_EXPIRED"
        )
        with pytest.raises(AmazonError) as raised:
            amazon.exchange_code(callback["spapi_oauth_code"])
    assert raised.value.code == "AUTHORIZATION_EXPIRED"
    assert len(sent) == 1


def test_a_refused_connection_is_retried_then_amazon_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    settings = AmazonSettings.sandbox(f"http://127.0.0.1:{closed_port}")
    with AmazonClient(settings, http) as amazon, pytest.raises(AmazonError) as raised:
        amazon.refresh("Atzr|sbx.approve.A1.x")
    assert raised.value.code == "AMAZON_UNAVAILABLE"
    assert "ConnectError" in raised.value.detail
    assert len(sent) == settings.max_retries + 1


def test_retry_after_is_honoured_up_to_its_cap(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The sandbox's LWA answers the first exchange of this code 429 with Retry-After: 3600.
    settings = dataclasses.replace(
        AmazonSettings.sandbox(base_url), backoff=30.0, max_retry_after=0.05
    )
    with AmazonClient(settings) as amazon, caplog.at_level("WARNING"):
        callback = redirect_of(f"{amazon.consent_url('na', STATE)}&sandbox_outcome=throttled_once")
        assert amazon.exchange_code(callback["spapi_oauth_code"]).access_token
    waits = [r.getMessage() for r in caplog.records if "LWA token" in r.getMessage()]
    assert waits == ["amazon LWA token (authorization_code): HTTP 429; retry 1/3 in 0.05s"]


def test_a_throttled_sellers_call_waits_one_token_of_the_announced_rate(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Amazon sends no Retry-After on a 429 (Usage Plans and Rate Limits in the SP-API): the
    # wait is one request's time at the x-amzn-RateLimit-Limit rate (the sandbox's 5.0/s).
    settings = dataclasses.replace(AmazonSettings.sandbox(base_url), max_retry_after=5.0)
    with AmazonClient(settings) as amazon, caplog.at_level("WARNING"):
        callback = redirect_of(f"{amazon.consent_url('na', STATE)}&sandbox_outcome=throttled_once")
        tokens = amazon.exchange_code(callback["spapi_oauth_code"])
        caplog.clear()
        amazon.check_account(tokens.access_token, "na", ["ATVPDKIKX0DER"])
    assert [r.getMessage() for r in caplog.records] == [
        "amazon getMarketplaceParticipations: HTTP 429; retry 1/3 in 0.20s"
    ]

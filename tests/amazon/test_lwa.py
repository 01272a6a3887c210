"""LWA as the real AmazonClient meets it over loopback: client-secret rotation, the Ads API's
own client and regional token hosts, and a single-use code never sent twice."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.amazon import AmazonClient, AmazonError, AmazonSettings
from adapters.amazon.settings import SANDBOX_LWA_CLIENT_SECRET
from tests.amazon.sandbox_server import sandbox_amazon

STATE = "con_7f3a9c.signature"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with sandbox_amazon() as url:
        yield url


def redirect_of(url: str) -> dict[str, str]:
    with httpx.Client() as browser:
        response = browser.get(url)
    assert response.status_code == 302, response.text
    query = urlsplit(response.headers["location"]).query
    return {key: values[0] for key, values in parse_qs(query).items()}


def sent_to(http_requests: list[httpx.Request]) -> list[str]:
    return [r.url.path for r in http_requests]


def code_for(amazon: AmazonClient, outcome: str = "approve") -> str:
    return redirect_of(f"{amazon.consent_url('na', STATE)}&sandbox_outcome={outcome}")[
        "spapi_oauth_code"
    ]


# Rotation: LWA_CLIENT_SECRETS, newest first


def test_during_a_rotation_the_older_secret_is_used_while_lwa_refuses_the_newer(
    base_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = dataclasses.replace(
        AmazonSettings.sandbox(base_url),
        lwa_client_secret="amzn1.oa2-cs.v1.not-active-on-amazon-yet",
        lwa_older_client_secrets=(SANDBOX_LWA_CLIENT_SECRET,),
    )
    sent: list[httpx.Request] = []
    with AmazonClient(settings, httpx.Client(event_hooks={"request": [sent.append]})) as amazon:
        code = code_for(amazon)
        with caplog.at_level("WARNING"):
            assert amazon.exchange_code(code).refresh_token.startswith("Atzr|")
    secrets_tried = [parse_qs(r.content.decode())["client_secret"][0] for r in sent]
    assert secrets_tried == [settings.lwa_client_secret, SANDBOX_LWA_CLIENT_SECRET]
    assert "finish the rotation (LWA_CLIENT_SECRETS)" in caplog.text
    assert SANDBOX_LWA_CLIENT_SECRET not in caplog.text


def test_when_the_newest_secret_works_the_older_one_is_never_sent(
    base_url: str,
) -> None:
    settings = dataclasses.replace(
        AmazonSettings.sandbox(base_url), lwa_older_client_secrets=("amzn1.oa2-cs.v1.old",)
    )
    sent: list[httpx.Request] = []
    with AmazonClient(settings, httpx.Client(event_hooks={"request": [sent.append]})) as amazon:
        amazon.refresh(amazon.exchange_code(code_for(amazon)).refresh_token)
    assert len(sent) == 2
    assert all(b"amzn1.oa2-cs.v1.old" not in r.content for r in sent)


def test_every_secret_refused_is_the_integrators_app_credentials(
    base_url: str,
) -> None:
    settings = dataclasses.replace(
        AmazonSettings.sandbox(base_url),
        lwa_client_secret="expired-new",
        lwa_older_client_secrets=("expired-old",),
    )
    with AmazonClient(settings) as amazon, pytest.raises(AmazonError) as raised:
        amazon.exchange_code(code_for(amazon))
    assert raised.value.code == "APP_CREDENTIALS_INVALID"
    assert "expired" not in str(raised.value)


def test_an_expired_app_secret_on_amazons_side_is_app_credentials_invalid(
    base_url: str,
) -> None:
    with AmazonClient(AmazonSettings.sandbox(base_url)) as amazon:
        code = code_for(amazon, "APP_CREDENTIALS_INVALID")
        with pytest.raises(AmazonError) as raised:
            amazon.exchange_code(code)
    assert raised.value.code == "APP_CREDENTIALS_INVALID"
    assert "HTTP 401 invalid_client" in raised.value.detail


# The Ads API: its own LWA client, its region's token host


def test_the_ads_consent_names_the_ads_client_and_the_code_goes_to_the_regions_token_host(
    base_url: str,
) -> None:
    production = AmazonSettings.production(
        application_id="amzn1.sp.solution.app",
        lwa_client_id="amzn1.application-oa2-client.spapi",
        lwa_client_secret="spapi-secret",
        ads_client_id="amzn1.application-oa2-client.ads",
        ads_client_secret="ads-secret",
    )
    consent = parse_qs(urlsplit(AmazonClient(production).ads_consent_url("eu", STATE)).query)
    assert consent["client_id"] == ["amzn1.application-oa2-client.ads"]
    assert production.ads_token_url("eu") == "https://api.amazon.co.uk/auth/o2/token"
    assert production.ads_token_url("fe") == "https://api.amazon.co.jp/auth/o2/token"
    assert production.ads_token_url("na") == "https://api.amazon.com/auth/o2/token"
    assert production.ads_older_client_secrets == ()

    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with AmazonClient(AmazonSettings.sandbox(base_url), http) as amazon:
        url = f"{amazon.ads_consent_url('eu', STATE)}&sandbox_outcome=approve"
        code = redirect_of(url)["code"]
        sent.clear()
        assert amazon.exchange_ads_code(code, "eu").refresh_token.startswith("Atzr|")
    assert sent_to(sent) == ["/sandbox/amazon/ads/eu/auth/o2/token"]


# A single-use code is never sent twice once it may have reached Amazon


@pytest.fixture
def hangs_up() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback peer that reads each request and closes without answering."""
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                received.append(conn.recv(65536))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", received
    server.shutdown(socket.SHUT_RDWR)  # wakes the accept() (closing alone does not, on Linux)
    server.close()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_code_exchange_that_may_have_reached_amazon_is_not_resent(
    hangs_up: tuple[str, list[bytes]],
) -> None:
    url, received = hangs_up
    with AmazonClient(AmazonSettings.sandbox(url)) as amazon:
        with pytest.raises(AmazonError) as raised:
            amazon.exchange_code("sbx.approve.A1SELLER.single-use")
        assert len(received) == 1
        assert raised.value.code == "AMAZON_UNAVAILABLE"
        assert "not resent" in raised.value.detail and "unknown" in raised.value.detail
        assert "single-use" not in str(raised.value)

        # A refresh may run twice, so the same failure is retried.
        with pytest.raises(AmazonError):
            amazon.refresh("Atzr|sbx.approve.A1SELLER.x")
        assert len(received) == 1 + amazon.settings.max_retries + 1


def test_a_code_exchange_refused_before_any_connection_is_sent_again() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    sent: list[httpx.Request] = []
    settings = AmazonSettings.sandbox(f"http://127.0.0.1:{closed}")
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with AmazonClient(settings, http) as amazon, pytest.raises(AmazonError) as raised:
        amazon.exchange_code("sbx.approve.A1SELLER.single-use")
    assert raised.value.code == "AMAZON_UNAVAILABLE"
    assert len(sent) == settings.max_retries + 1

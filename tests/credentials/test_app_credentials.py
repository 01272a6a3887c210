"""The integrator's own Amazon app credentials: a refusal by LWA is the integrator's problem
(APP_CREDENTIALS_INVALID, who_acts integrator) and the operator hears of it, as of a client
secret nearing its rotation deadline, in /readyz, /metrics and the log."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest

from tests.conftest import START, consent, new_connection, start_service


def metric(url: str, name: str) -> str:
    lines = httpx.get(f"{url}/metrics", timeout=10).text.splitlines()
    return next(line.split()[-1] for line in lines if line.startswith(name))


def test_refused_app_credentials_blame_the_integrator_and_alert_the_operator(
    sqlite_url, caplog: pytest.LogCaptureFixture
):
    live = start_service(sqlite_url)
    try:
        with live.client() as api, caplog.at_level(logging.ERROR):
            c = new_connection(api)
            started = api.post(f"/v1/connections/{c['id']}/start_authorization").json()
            back = consent(api, started["consent_url"], "APP_CREDENTIALS_INVALID")
            assert back.json()["error"]["code"] == "APP_CREDENTIALS_INVALID"
            guide = api.get(f"/v1/connections/{c['id']}/guide").json()
            assert guide["who_acts"] == "integrator"
            events = api.get(f"/v1/connections/{c['id']}/events").json()["data"]
            assert events[-1]["type"] == "connection.authorization_failed"
            assert events[-1]["data"]["error"]["code"] == "APP_CREDENTIALS_INVALID"

            ready = httpx.get(f"{live.url}/readyz", timeout=10)
            assert ready.status_code == 200  # a detail for the operator, not "not ready"
            amazon = ready.json()["amazon"]
            assert amazon["app_credentials"] == "refused"
            assert "APP_CREDENTIALS_INVALID" in amazon["warnings"][0]
            assert metric(live.url, 'amazon_app_credentials_refused{client="SP-API"}') == "1.0"
            assert "LWA refused the SP-API app credentials" in caplog.text

            # Fixed credentials: the next exchange is accepted and the alert clears.
            again = api.post(f"/v1/connections/{c['id']}/start_authorization").json()
            assert consent(api, again["consent_url"]).json()["state"] == "api_authorized"
            assert httpx.get(f"{live.url}/readyz").json()["amazon"]["app_credentials"] == "ok"
            assert metric(live.url, 'amazon_app_credentials_refused{client="SP-API"}') == "0.0"
    finally:
        live.stop()


def test_a_client_secret_within_30_days_of_its_deadline_is_warned_about(
    sqlite_url, caplog: pytest.LogCaptureFixture
):
    expires = START + timedelta(days=29)
    with caplog.at_level(logging.WARNING):
        live = start_service(sqlite_url, LWA_CLIENT_SECRET_EXPIRES_AT=expires.isoformat())
    try:
        assert "the LWA client secret expires at" in caplog.text
        amazon = httpx.get(f"{live.url}/readyz", timeout=10).json()["amazon"]
        assert amazon["lwa_client_secret_expires_in_days"] == 29
        assert any("rotate it (LWA_CLIENT_SECRETS)" in w for w in amazon["warnings"])
        assert metric(live.url, "amazon_lwa_client_secret_expiring") == "1.0"
    finally:
        live.stop()


def test_a_secret_far_from_its_deadline_raises_no_warning(sqlite_url):
    expires = START + timedelta(days=120)
    live = start_service(sqlite_url, LWA_CLIENT_SECRET_EXPIRES_AT=expires.isoformat())
    try:
        amazon = httpx.get(f"{live.url}/readyz", timeout=10).json()["amazon"]
        assert amazon["warnings"] == [] and amazon["app_credentials"] == "ok"
        assert metric(live.url, "amazon_lwa_client_secret_expiring") == "0.0"
        live.clock.advance(timedelta(days=91))  # 29 days left now
        assert httpx.get(f"{live.url}/readyz").json()["amazon"]["warnings"]
    finally:
        live.stop()

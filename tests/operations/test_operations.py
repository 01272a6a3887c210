"""Operating the service: metrics move with a connection's life, readiness tells the truth
about the store and the worker, and every log line of a request carries its id, never a
secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from domain.permissions import REQUIRED_SC_PERMISSIONS
from service import logs
from service.metrics import Heartbeat
from tests.conftest import SECRET_KEY, consent, new_connection, start_service

Samples = dict[tuple[str, frozenset], float]


def scrape(live) -> Samples:
    response = httpx.get(f"{live.url}/metrics", timeout=10)  # no API key: ops route
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def json_logs() -> Iterator[Callable[[], list[dict]]]:
    """The service's log output, as production writes it (LOG_FORMAT=json)."""
    names = ["", "httpx", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = [
        (
            logging.getLogger(n),
            logging.getLogger(n).handlers[:],
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in names
    ]
    config = structlog.get_config()
    buffer = io.StringIO()
    logs.configure("json", "INFO", stream=buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    for logger, handlers, level, propagate in saved:  # later tests get logging back
        logger.handlers, logger.propagate = handlers, propagate
        logger.setLevel(level)
    structlog.configure(**config)


def test_metrics_move_with_a_connection_lifecycle(live, api):
    before = scrape(live)

    created = api.post(
        "/v1/connections",
        headers={"Idempotency-Key": "ops-create-1"},
        json={
            "owner_email": "owner@example.com",
            "region": "na",
            "marketplace_ids": ["ATVPDKIKX0DER"],
        },
    )
    replayed = api.post(
        "/v1/connections",
        headers={"Idempotency-Key": "ops-create-1"},
        json={
            "owner_email": "owner@example.com",
            "region": "na",
            "marketplace_ids": ["ATVPDKIKX0DER"],
        },
    )
    assert created.status_code == replayed.status_code == 201
    cid = created.json()["id"]
    started = api.post(f"/v1/connections/{cid}/start_authorization").json()
    assert consent(api, started["consent_url"]).json()["state"] == "api_authorized"
    api.post(f"/v1/connections/{cid}/invite_seller_central_user")
    api.post(
        f"/v1/connections/{cid}/confirm_seller_central_user",
        json={"permissions": REQUIRED_SC_PERMISSIONS},
    )
    assert api.post(f"/v1/connections/{cid}/activate").json()["state"] == "active"
    refused = api.post(f"/v1/connections/{cid}/start_authorization")
    assert refused.status_code == 409

    after = scrape(live)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    commands = "connection_commands_total"
    assert delta(commands, action="invite", outcome="ok") == 1
    assert delta(commands, action="invite", outcome="replayed") == 1
    assert delta(commands, action="start_authorization", outcome="ok") == 1
    assert delta(commands, action="authorization_callback", outcome="ok") == 1
    assert delta(commands, action="confirm_seller_central_user", outcome="ok") == 1
    assert delta(commands, action="activate", outcome="ok") == 1
    assert delta(commands, action="start_authorization", outcome="INVALID_TRANSITION") == 1

    create_route = {"method": "POST", "route": "/v1/connections", "status": "201"}
    assert delta("http_requests_total", **create_route) == 2
    assert delta("http_request_duration_seconds_count", **create_route) == 2
    assert (
        delta(
            "http_requests_total",
            method="POST",
            status="409",
            route="/v1/connections/{connection_id}/start_authorization",
        )
        == 1
    )
    assert delta("http_requests_total", method="GET", route="/metrics", status="200") == 1

    # Counted from the read model at scrape time: this test's store holds one connection.
    assert value(before, "connections_by_state", state="active") == 0
    assert value(after, "connections_by_state", state="active") == 1
    assert value(after, "connections_by_state", state="invited") == 0


def test_an_unknown_path_is_counted_under_one_label_with_its_request_id(live):
    before = scrape(live)
    response = httpx.get(f"{live.url}/no/such/path/123", timeout=10)
    assert response.status_code == 404
    assert response.json()["request_id"] == response.headers["x-request-id"]
    after = scrape(live)
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    assert (
        value(after, "http_requests_total", **labels)
        - value(before, "http_requests_total", **labels)
        == 1
    )


def test_healthz_and_readyz_answer_while_the_store_answers(live):
    assert httpx.get(f"{live.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{live.url}/readyz")
    assert ready.status_code == 200
    amazon = {
        "app_credentials": "ok",
        "lwa_client_secret_expires_at": None,
        "lwa_client_secret_expires_in_days": None,
        "warnings": [],
    }
    assert ready.json() == {"status": "ok", "store": "ok", "read_model_lag": 0, "amazon": amazon}


def test_readyz_is_a_503_problem_with_retry_after_when_the_store_is_down(live, json_logs):
    before = scrape(live)
    live.services.app.close()  # the event store's connections are gone

    response = httpx.get(f"{live.url}/readyz", headers={"X-Request-ID": "req-readyz-down"})

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    problem = response.json()
    assert problem["code"] == "SERVICE_UNAVAILABLE"
    assert problem["checks"] == {"store": "unreachable"}
    assert problem["request_id"] == "req-readyz-down"
    assert httpx.get(f"{live.url}/healthz").status_code == 200  # alive, not ready
    after = scrape(live)
    assert (
        value(after, "store_errors_total", source="readyz")
        - value(before, "store_errors_total", source="readyz")
        == 1
    )
    # The standard library's lines inside a request carry its id too.
    warnings = [line for line in json_logs() if line["logger"] == "service.api.meta"]
    assert warnings and all(line["request_id"] == "req-readyz-down" for line in warnings)


def test_readyz_fails_while_the_read_model_trails_the_store_beyond_the_bound(sqlite_url):
    live = start_service(sqlite_url, READYZ_MAX_LAG="1")
    try:
        with live.client() as api:
            new_connection(api)
            new_connection(api)  # commands commit events; the read model follows later
            lagging = httpx.get(f"{live.url}/readyz")
            assert lagging.status_code == 503
            assert lagging.json()["checks"]["read_model_lag"] == 2
            api.get("/v1/connections")  # a reader catches the read model up
            assert httpx.get(f"{live.url}/readyz").status_code == 200
    finally:
        live.stop()


def test_readyz_fails_when_the_embedded_worker_stops_beating(live):
    now = [1000.0]
    heartbeat = Heartbeat(clock=lambda: now[0])
    live.server.config.app.state.worker_heartbeat = heartbeat  # as `service.asgi` does

    assert httpx.get(f"{live.url}/readyz").status_code == 200
    now[0] += live.services.settings.worker_stale_after.total_seconds() + 1
    stale = httpx.get(f"{live.url}/readyz")
    assert stale.status_code == 503
    assert stale.headers["retry-after"]
    assert "worker" in stale.json()["detail"]
    heartbeat.beat()
    assert httpx.get(f"{live.url}/readyz").json()["worker_heartbeat_age_seconds"] == 0


def test_every_log_line_of_a_request_carries_its_context_and_no_secret(live, json_logs):
    api_key = live.services.api_keys.create(
        "tenant_ops", ["connections:read", "connections:write"]
    ).secret
    api = httpx.Client(
        base_url=live.url,
        timeout=30,
        headers={"Authorization": f"Bearer {api_key}", "X-Request-ID": "req-ops-1"},
    )
    with api:
        c = new_connection(api)
        started = api.post(f"/v1/connections/{c['id']}/start_authorization").json()
        page = httpx.get(f"{started['consent_url']}&sandbox_outcome=approve", timeout=30)
        callback = page.headers["location"]
        assert httpx.get(callback, headers={"Accept": "application/json"}).status_code == 200
        api.get(f"/v1/connections/{c['id']}", params={"as_of": "not a time"})

    lines = json_logs()
    ours = [line for line in lines if line.get("request_id") == "req-ops-1"]
    requests = [line for line in ours if line["event"] == "request"]
    assert [(r["method"], r["status"], r.get("action")) for r in requests] == [
        ("POST", 201, "invite"),
        ("POST", 200, "start_authorization"),
        ("GET", 422, None),
    ]
    assert all(line["tenant"] == "tenant_ops" for line in ours)
    assert all(line["connection_id"] == c["id"] for line in ours)
    assert requests[-1]["code"] == "VALIDATION_ERROR"
    callback_line = next(line for line in lines if line.get("route") == "/v1/oauth/amazon/callback")
    assert callback_line["request_id"].startswith("req_")
    assert callback_line["path"] == "/v1/oauth/amazon/callback"  # never the query string

    text = "\n".join(json.dumps(line) for line in lines)
    oauth = parse_qs(urlparse(callback).query)
    for secret in (api_key, SECRET_KEY, oauth["spapi_oauth_code"][0], oauth["state"][0]):
        assert secret not in text
    assert "Bearer" not in text and "Atzr|" not in text


def test_the_access_line_reads_the_same_written_straight_or_through_a_log_record(json_logs):
    """The access line skips the log record while the service's handler is alone (what
    makes it cheap); with another handler listening (a test's capture, an operator's own),
    it goes through a record, and both write the same masked line."""
    fields = {
        "method": "GET",
        "path": "/connect/x?token=Atzr|secret-refresh",
        "route": None,
        "status": 404,
        "duration_ms": 0.4,
    }
    logs.access(logging.INFO, dict(fields))
    heard: list[logging.LogRecord] = []
    listener = logging.Handler()
    listener.emit = heard.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(listener)
    try:
        logs.access(logging.INFO, dict(fields))
    finally:
        logging.getLogger().removeHandler(listener)
    straight, recorded = json_logs()[-2:]
    assert len(heard) == 1
    assert straight.pop("timestamp") <= recorded.pop("timestamp")
    assert straight == recorded
    assert straight["event"] == "request" and "secret-refresh" not in json.dumps(straight)

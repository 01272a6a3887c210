"""Prometheus metrics: one registry for this process, served at `GET /metrics`.

Other modules import the objects below and move them (the webhook sender, the deadline
runner). `connections_by_state` is not kept here: it is read from the read model at each
scrape, so every process reports the same truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from domain.lifecycle import PUBLIC_ACTIONS, STATES

log = logging.getLogger(__name__)

# Not the library's global default: tests build many apps in one process and assert deltas.
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests by route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
COMMANDS = Counter(
    "connection_commands",
    "Commands on connections by action and outcome (ok, replayed, or the error code)",
    ["action", "outcome"],
    registry=REGISTRY,
)
GROUP_COMMIT_SIZE = Histogram(
    "event_store_commit_commands",
    "Commands written per event-store transaction (group commit, service.connections.group_commit)",
    registry=REGISTRY,
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
WEBHOOK_DELIVERIES = Counter(
    "webhook_deliveries", "Webhook delivery attempts by outcome", ["outcome"], registry=REGISTRY
)
WEBHOOK_DELIVERY_LAG = Histogram(
    "webhook_delivery_lag_seconds",
    "From an event's commit to its successful delivery",
    registry=REGISTRY,
    buckets=(1, 5, 30, 60, 300, 1800, 7200, 18000, 36000, 86400, 259200, 432000),
)
DEADLINES_FIRED = Counter(
    "deadlines_fired", "Deadlines fired, by trigger", ["trigger"], registry=REGISTRY
)
STORE_ERRORS = Counter(
    "store_errors",
    "Failures to reach the database, by where they surfaced",
    ["source"],
    registry=REGISTRY,
)
WORKER_LAST_PASS = Gauge(
    "worker_last_pass_timestamp_seconds",
    "When this process's worker last finished a pass",
    registry=REGISTRY,
)

FOLLOWER_STUCK_AT = Gauge(
    "follower_stuck_position",
    "The log position of the event a follower cannot process (0 while it moves)",
    ["follower"],
    registry=REGISTRY,
)
FOLLOWER_POISON_EVENTS = Counter(
    "follower_poison_events",
    "Events a follower could not process, by follower",
    ["follower"],
    registry=REGISTRY,
)
WORKER_STEP_FAILURES = Counter(
    "worker_step_failures",
    "Worker steps that raised (each step fails alone; the others still run)",
    ["step"],
    registry=REGISTRY,
)

AMAZON_APP_CREDENTIALS_REFUSED = Gauge(
    "amazon_app_credentials_refused",
    "1 while LWA refuses the app's own client credentials (APP_CREDENTIALS_INVALID), by client",
    ["client"],
    registry=REGISTRY,
)
AMAZON_LWA_SECRET_EXPIRES_IN = Gauge(
    "amazon_lwa_client_secret_expires_in_seconds",
    "Seconds until LWA_CLIENT_SECRET_EXPIRES_AT (-1 when it is not configured)",
    registry=REGISTRY,
)
AMAZON_LWA_SECRET_EXPIRING = Gauge(
    "amazon_lwa_client_secret_expiring",
    "1 from 30 days before LWA_CLIENT_SECRET_EXPIRES_AT: rotate the secret",
    registry=REGISTRY,
)


def watch_app_credentials(credentials: Any) -> None:
    """The gauges read `adapters.amazon.credentials.AppCredentials` at every scrape."""
    for client in ("SP-API", "Ads"):
        AMAZON_APP_CREDENTIALS_REFUSED.labels(client).set_function(
            lambda c=client: float(c in credentials.refused_clients())
        )
    AMAZON_LWA_SECRET_EXPIRES_IN.set_function(
        lambda: -1.0 if (left := credentials.seconds_to_expiry()) is None else left
    )
    AMAZON_LWA_SECRET_EXPIRING.set_function(lambda: float(credentials.expiring()))


CONTENT_TYPE = "text/plain; version=0.0.4"  # litestar adds "; charset=utf-8"
_CALLBACKS = {
    "/v1/oauth/amazon/callback": "authorization_callback",
    "/v1/oauth/amazon-ads/callback": "advertising_authorization_callback",
}
_ACTION_PREFIX = "/v1/connections/{connection_id}/"


def command_of(method: str, route: str) -> str | None:
    """The command a request carries, read from its route template (None for queries)."""
    if method == "POST" and route == "/v1/connections":
        return "invite"
    if method == "POST" and route.startswith(_ACTION_PREFIX):
        action = route[len(_ACTION_PREFIX) :]
        return action if action in PUBLIC_ACTIONS else None
    return _CALLBACKS.get(route) if method == "GET" else None


_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(
    method: str,
    route: str,
    status: int,
    seconds: float,
    code: str | None = None,
    replayed: bool = False,
) -> None:
    """Records one HTTP request; `code` is the problem's code for error responses."""
    route = route or "unmatched"  # unknown paths must not explode the label set
    children = _CHILDREN.get((method, route, status))
    if children is None:  # the label lookups, once per method, route and status
        labels = (method, route, str(status))
        children = (HTTP_REQUESTS.labels(*labels), HTTP_LATENCY.labels(*labels))
        _CHILDREN[(method, route, status)] = children
    children[0].inc()
    children[1].observe(seconds)
    if code == "SERVICE_UNAVAILABLE" and route != "/readyz":
        STORE_ERRORS.labels("http").inc()
    if method == "POST" or route in _CALLBACKS:
        action = command_of(method, route)
        if action is not None:
            outcome = "replayed" if replayed else "ok" if status < 400 else code or f"http_{status}"
            COMMANDS.labels(action, outcome).inc()


class Heartbeat:
    """The worker's pulse: it beats after every pass; `/readyz` asks how long ago.

    Starting counts as a beat, so a new worker has one full timeout to finish its first pass.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last = clock()

    def beat(self) -> None:
        self._last = self._clock()
        WORKER_LAST_PASS.set_to_current_time()

    def age(self) -> float:
        return self._clock() - self._last


class _Scrape:
    """The process's registry plus the connections counted from the read model now."""

    def __init__(self, count_by_state: Callable[[], dict[str, int]]) -> None:
        self.count_by_state = count_by_state

    def collect(self) -> Iterator[Metric]:
        try:
            counts: dict[str, int] | None = self.count_by_state()
        except Exception as exc:
            STORE_ERRORS.labels("metrics").inc()
            log.warning("metrics: read model unavailable: %s", type(exc).__name__)
            counts = None
        yield from REGISTRY.collect()
        if counts is not None:
            family = GaugeMetricFamily(
                "connections_by_state",
                "Connections by state, from the read model",
                labels=["state"],
            )
            for state in STATES:
                family.add_metric([state], counts.get(state, 0))
            yield family


def serve_metrics(port: int) -> None:
    """For processes without the API (`connections worker`): /metrics on its own port."""
    if port:
        start_http_server(port, registry=REGISTRY)
        log.info("metrics on :%s/metrics", port)


def exposition(count_by_state: Callable[[], dict[str, int]]) -> bytes:
    return generate_latest(_Scrape(count_by_state))  # type: ignore[arg-type]

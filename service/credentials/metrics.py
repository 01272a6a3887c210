"""The credentials capability's metrics, in the process's one registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from service.metrics import REGISTRY

TOKEN_REQUESTS = Counter(
    "access_token_requests",
    "Access tokens asked for, by API and how they were served (hit, coalesced, refreshed, "
    "or the refusal's code)",
    ["api", "outcome"],
    registry=REGISTRY,
)
LWA_REFRESHES = Counter(
    "access_token_refreshes",
    "LWA refreshes made for access tokens, by API and outcome (ok or the error code)",
    ["api", "outcome"],
    registry=REGISTRY,
)
APP_CREDENTIALS_FAILING = Gauge(
    "app_credentials_invalid",
    "1 while LWA refuses the app's own client credentials (an operator problem)",
    ["api"],
    registry=REGISTRY,
)
PROXY_CALLS = Counter(
    "proxy_calls",
    "Calls proxied to Amazon, by API and Amazon's status",
    ["api", "status"],
    registry=REGISTRY,
)
PROXY_RETRIES = Counter(
    "proxy_throttle_retries", "Throttled proxy calls retried, by API", ["api"], registry=REGISTRY
)
PROXY_ADDED_LATENCY = Histogram(
    "proxy_added_latency_seconds",
    "Time the proxy adds to a call (its whole time minus Amazon's answer time)",
    ["api"],
    registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
HOT_PATH_ANSWERS = Counter(
    "access_token_hot_path_answers",
    "Cached access tokens answered before routing (service.credentials.hot_path); the "
    "other token requests go through the route",
    registry=REGISTRY,
)

"""Contract fuzzing: schemathesis generates requests from the committed `openapi.yaml` and
sends them to the running service. No request may get a 5xx; every response must match
the schema's documented response for its status; every error must be an RFC 9457 problem
with a stable `code` (SPEC §3), which the schema does not describe yet.

`make test` runs up to FUZZ_EXAMPLES (default 25) cases per operation; `make test-fuzz`
500. The schema documents only each operation's success response (and litestar's 400),
so a 4xx it does not list is checked against SPEC's statuses and counted in
var/reliability.json, not failed.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from service.api_keys import SCOPES
from tests.conftest import LiveService, start_service
from tests.faults import figures

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# The bounded run sends the same cases every time (a failure reproduces); a longer run
# asked for with FUZZ_EXAMPLES explores new ones.
DERANDOMIZE = "FUZZ_EXAMPLES" not in os.environ
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.yaml")
CONNECTION = {
    "owner_email": "owner@example.com",
    "region": "na",
    "marketplace_ids": ["ATVPDKIKX0DER"],
}
# Served as text, which the generated schema still calls application/json.
OTHER_MEDIA_TYPES = {
    "GET /v1/state-machine": "text/plain with ?format=mermaid",
    "GET /v1/audit/export": "application/x-ndjson or text/csv",
}
# Litestar's answers to the OPTIONS and unsupported-method probes schemathesis adds, for
# methods the schema does not have; every other answer must be documented for its operation.
PROBE_STATUSES = {204, 405}
SEEN: Counter = Counter()  # (operation, status) of every case
FAILURES: list[str] = []
REAL: dict[str, list[str]] = {"connection_id": [], "endpoint_id": [], "delivery_id": []}
_rng = random.Random(7)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveService, str]]:
    folder = tmp_path_factory.mktemp("fuzz")
    # Rate limits off: the fuzzer is one key sending as fast as it can.
    live = start_service(
        f"sqlite:///{folder}/connections.db", WEBHOOK_ALLOW_PRIVATE="1", RATE_LIMIT_PER_SECOND="0"
    )
    key = live.services.api_keys.create("tenant_fuzz", list(SCOPES)).secret
    with live.client("tenant_fuzz") as api:
        for _ in range(3):
            REAL["connection_id"].append(api.post("/v1/connections", json=CONNECTION).json()["id"])
        REAL["endpoint_id"].append(
            api.post("/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/hooks"}).json()["id"]
        )
        live.services.webhooks.outbox.catch_up()
        REAL["delivery_id"] += [
            d["id"]
            for d in api.get(f"/v1/webhook_endpoints/{REAL['endpoint_id'][0]}/deliveries").json()[
                "data"
            ]
        ]
    yield live, key
    live.stop()
    undocumented: Counter = Counter()
    for (operation, status), n in SEEN.items():
        if not _documented(operation, status):
            undocumented[str(status)] += n
    figures.record(
        "contract_fuzz",
        long=not DERANDOMIZE,
        examples_per_operation=EXAMPLES,
        operations=len({op for op, _ in SEEN if _documented(op)}),
        cases=sum(SEEN.values()),
        failing_cases=len(FAILURES),
        failures=sorted(set(FAILURES)),
        server_errors=sum(n for (_, s), n in SEEN.items() if s >= 500),
        cases_with_undocumented_status=dict(sorted(undocumented.items())),
    )


@SCHEMA.hook("map_path_parameters")
def real_ids_half_the_time(context, path_parameters):
    """Random ids only ever reach the 404 branch; half the cases name real resources."""
    for name, ids in REAL.items():
        if name in (path_parameters or {}) and ids and _rng.random() < 0.5:
            path_parameters[name] = _rng.choice(ids)
    return path_parameters


def _documented(operation: str, status: int | None = None) -> bool:
    """Whether the schema has the operation (and lists this status for it)."""
    method, path = operation.split(" ", 1)
    spec = SCHEMA.raw_schema["paths"].get(path, {}).get(method.lower())
    if spec is None or status is None:
        return spec is not None
    return str(status) in spec["responses"] or f"{str(status)[0]}XX" in spec["responses"]


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx_and_every_response_matches_the_contract(case, target):
    live, key = target
    response = case.call(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    operation = f"{case.method.upper()} {case.path}"
    status = response.status_code
    SEEN[(operation, status)] += 1
    try:
        if _documented(operation):
            assert _documented(operation, status), f"{status} is not documented for {operation}"
        else:
            assert status in PROBE_STATUSES, status
        if status >= 400:
            assert _is_problem(response), response.text
        # Built-in checks against the documented response of this status (skipped by
        # schemathesis for a status the schema does not list).
        checks = [not_a_server_error, response_schema_conformance]
        if operation not in OTHER_MEDIA_TYPES:
            checks.append(content_type_conformance)
        case.validate_response(response, checks=checks)
    except Exception:
        FAILURES.append(f"{operation} {status}")
        raise


def _is_problem(response) -> bool:
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/problem+json"):
        return False
    body = response.json()
    return (
        isinstance(body, dict)
        and body.get("status") == response.status_code
        and isinstance(body.get("code"), str)
        and isinstance(body.get("detail"), str)
    )

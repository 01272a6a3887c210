"""Contract fuzzing: schemathesis generates requests from the committed `openapi.yaml` and
sends them to the running service, on PostgreSQL. Every one of schemathesis' checks that
judges the server runs (no 5xx, documented status, content type, headers, the body against
its declared schema (response_schema_conformance: the structs of service/api/responses.py,
so a presenter drifting from its declaration fails here), Allow on OPTIONS and 405, auth
not ignored, …), all but the two data-acceptance heuristics
(positive_data_acceptance, negative_data_rejection), which guess from the schema alone
whether the service should have accepted a request; and every error must be an RFC 9457
problem with a stable `code` (SPEC §3).

`make test` runs up to FUZZ_EXAMPLES (default 25) cases per operation; `make test-fuzz`
500. Figures go to var/reliability.json.
"""

from __future__ import annotations

import os
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from service.keys.api_keys import SCOPES
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
# Heuristics about which generated data the service should accept, not checks of what it
# answers: it refuses more than the schema can say (unknown ids, states, SSRF guards).
HEURISTICS = [positive_data_acceptance, negative_data_rejection]
# Litestar's answers to the OPTIONS and unsupported-method probes schemathesis adds, for
# methods the schema does not have; every other answer must be documented for its operation.
PROBE_STATUSES = {204, 405}
SEEN: Counter = Counter()  # (operation, status) of every case
FAILURES: list[str] = []
REAL: dict[str, list[str]] = {"connection_id": [], "endpoint_id": [], "delivery_id": []}
_rng = random.Random(7)


@pytest.fixture(scope="module")
def target(postgres_url: str) -> Iterator[tuple[LiveService, str]]:
    schema = f"fuzz_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    # Rate limits off: the fuzzer is one key sending as fast as it can.
    sep = "&" if "?" in postgres_url else "?"
    live = start_service(
        f"{postgres_url}{sep}schema={schema}", WEBHOOK_ALLOW_PRIVATE="1", RATE_LIMIT_PER_SECOND="0"
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
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
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
    headers = {"Authorization": f"Bearer {key}"}
    response = case.call(base_url=live.url, headers=headers, timeout=30)
    operation = f"{case.method.upper()} {case.path}"
    status = response.status_code
    SEEN[(operation, status)] += 1
    try:
        if not _documented(operation):
            assert status in PROBE_STATUSES, status
        if status >= 400:
            assert _is_problem(response), response.text
        case.validate_response(
            response,
            excluded_checks=HEURISTICS,
            headers=headers,
            transport_kwargs={"base_url": live.url, "headers": headers, "timeout": 30},
        )
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


# Hostile text (SPEC: no input is a 500, whatever bytes it holds): in about one case in
# five, one string of the generated body or query is replaced by text the edge must
# refuse or survive (NUL, a lone surrogate, bidi overrides, escapes, a megabyte).
HOSTILE_TEXT = [
    "a\u0000b",
    "\ud800",
    "abc\u202edcba\u2066",
    "\u001b[2J\u0007",
    "line\r\nInjected: header",
    "\u0085\u009b",
    "\ufffe\uffff",
    "e\u0301\u00e9\ufb01",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "x" * 9000,
]
MEGABYTE = "x" * 1_000_000


def _hostile(value, *, body: bool):
    """`value` with one string (or object key) replaced by hostile text."""
    strings = _string_paths(value)
    if not strings or _rng.random() > 0.2:
        return value
    path = _rng.choice(strings)
    text = _rng.choice(HOSTILE_TEXT + ([MEGABYTE] if body else []))
    if not body:
        text = text.replace("\ud800", "\u00e9")  # a URL carries UTF-8, which has no surrogates
    return _replace(value, path, text)


def _string_paths(value, path=()):
    found = []
    if isinstance(value, str):
        found.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            found.append((*path, ("key", key)))
            found += _string_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _string_paths(item, (*path, i))
    return found


def _replace(value, path, text):
    if not path:
        return text
    step, rest = path[0], path[1:]
    if isinstance(step, tuple):
        return {(text if k == step[1] else k): v for k, v in value.items()}
    copy = value.copy()
    copy[step] = _replace(value[step], rest, text)
    return copy


@SCHEMA.hook("map_body")
def hostile_body_text(context, body):
    return _hostile(body, body=True)


@SCHEMA.hook("map_query")
def hostile_query_text(context, query):
    return _hostile(query, body=False) if query else query

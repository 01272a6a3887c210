"""The REST contract of SPEC §3-§4 that is not one connection's: the reference endpoints
(state machine, error catalogue), request ids, health, and the committed OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests import contract
from tests.api.helpers import assert_problem, history
from tests.conftest import start_service

ROOT = Path(__file__).resolve().parents[2]


STATES = list(contract.STATES)
SPEC_ERROR_CODES = [*contract.SELLER_FACING_CODES, *contract.API_LEVEL_STATUS]


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A client for store-independent reference endpoints: one SQLite server for them all."""
    service = start_service(f"sqlite:///{tmp_path_factory.mktemp('ref')}/connections.db")
    try:
        with service.client() as client:
            yield client
    finally:
        service.stop()


# ------------------------------------------------------------------ reference


def test_state_machine_lists_all_eight_states_and_the_declared_transitions(ref):
    response = ref.get("/v1/state-machine")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    machine = response.json()
    assert [s["name"] for s in machine["states"]] == STATES
    triggers = {t["trigger"] for t in machine["transitions"]}
    assert {
        "invite",
        "resend_invitation",
        "start_authorization",
        "complete_authorization",
        "fail_authorization",
        "invite_seller_central_user",
        "confirm_seller_central_user",
        "fail_seller_central_authorization",
        "activate",
        "mark_reauth_due",
        "start_reauthorization",
        "complete_reauthorization",
        "disconnect",
        "expire_invitation",
    } <= triggers
    pairs = {(t["trigger"], t["source"], t["dest"]) for t in machine["transitions"]}
    assert ("start_authorization", "owner_pending", "owner_pending") in pairs
    assert ("fail_authorization", "owner_pending", "invited") in pairs
    assert ("expire_invitation", "invited", "disconnected") in pairs
    assert ("activate", "api_authorized", "active") in pairs
    assert {("disconnect", s, "disconnected") for s in STATES[:-1]} <= pairs
    assert not any(
        t["trigger"] == "disconnect" and t["source"] == "disconnected"
        for t in machine["transitions"]
    )


def test_state_machine_as_mermaid_text(ref):
    response = ref.get("/v1/state-machine", params={"format": "mermaid"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("stateDiagram-v2")
    for state in STATES:
        assert state in response.text
    assert "invited --> owner_pending: start_authorization" in response.text


def test_mermaid_content_type_names_its_charset_once(ref):
    response = ref.get("/v1/state-machine", params={"format": "mermaid"})
    assert response.headers["content-type"].lower().count("charset") == 1


def test_unknown_state_machine_format_is_a_validation_problem(ref):
    assert_problem(ref.get("/v1/state-machine", params={"format": "png"}), 422, "VALIDATION_ERROR")


def test_error_catalogue_has_every_spec_code_with_message_and_remediation(ref):
    response = ref.get("/v1/errors")
    assert response.status_code == 200
    entries = {e["code"]: e for e in response.json()["data"]}
    missing = [code for code in SPEC_ERROR_CODES if code not in entries]
    assert not missing, f"catalogue lacks {missing}"
    for code in SPEC_ERROR_CODES:
        e = entries[code]
        assert e["title"].strip(), code
        assert e["message"].strip(), code
        assert isinstance(e["remediation"], list) and e["remediation"], code
        assert all(isinstance(step, str) and step.strip() for step in e["remediation"]), code
        assert e["who_acts"] in {"owner", "integrator", "amazon", "support", "service", "nobody"}, (
            code
        )
        assert isinstance(e["retryable"], bool), code
    assert entries["VERSION_CONFLICT"]["retryable"] is True
    assert entries["NOT_PROFESSIONAL_ACCOUNT"]["retryable"] is False
    assert entries["NOT_PROFESSIONAL_ACCOUNT"]["who_acts"] == "owner"


# ------------------------------------------------------------------ request ids


def test_request_id_is_echoed_or_generated_and_quoted_in_problems_and_events(api):
    given = api.get("/v1/connections", headers={"X-Request-ID": "trace-abc.123"})
    assert given.status_code == 200
    assert given.headers["x-request-id"] == "trace-abc.123"

    first = api.get("/v1/connections").headers.get("x-request-id")
    second = api.get("/v1/connections").headers.get("x-request-id")
    assert first and second and first != second

    missing = api.get(
        "/v1/connections/00000000-0000-0000-0000-000000000000",
        headers={"X-Request-ID": "support-case-7"},
    )
    problem = assert_problem(missing, 404, "NOT_FOUND")
    assert problem["request_id"] == "support-case-7"
    assert missing.headers["x-request-id"] == "support-case-7"

    generated = api.post("/v1/connections", json={"region": "na"})
    problem = assert_problem(generated, 422, "VALIDATION_ERROR")
    assert problem["request_id"] and problem["request_id"] == generated.headers["x-request-id"]

    unauthenticated = httpx.get(
        f"{api.base_url}/v1/connections", headers={"X-Request-ID": "anon-1"}
    )
    assert assert_problem(unauthenticated, 401, "UNAUTHENTICATED")["request_id"] == "anon-1"

    created = api.post(
        "/v1/connections",
        headers={"X-Request-ID": "create-1"},
        json={"owner_email": "o@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]},
    )
    assert created.headers["x-request-id"] == "create-1"
    assert history(api, created.json()["id"])[0]["request_id"] == "create-1"


# ------------------------------------------------------------------ ops


def test_health_and_readiness_answer_200(live):
    health = httpx.get(f"{live.url}/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    ready = httpx.get(f"{live.url}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"


def test_openapi_and_docs_are_served_without_a_key(ref):
    schema = httpx.get(f"{ref.base_url}/openapi.json")
    assert schema.status_code == 200
    doc = schema.json()
    assert doc["openapi"].startswith("3.")
    assert "/v1/connections" in doc["paths"]
    assert "/v1/connections/{connection_id}" in doc["paths"]
    assert "/v1/state-machine" in doc["paths"]
    docs = httpx.get(f"{ref.base_url}/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")


def test_committed_openapi_matches_the_served_schema(ref):
    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    served = httpx.get(f"{ref.base_url}/openapi.json").json()
    if committed != served:
        only_committed = sorted(set(committed.get("paths", {})) - set(served.get("paths", {})))
        only_served = sorted(set(served.get("paths", {})) - set(committed.get("paths", {})))
        pytest.fail(
            "openapi.yaml differs from GET /openapi.json; regenerate it with "
            f"`connections openapi`. Paths only committed: {only_committed}; "
            f"only served: {only_served}"
        )


def test_the_contract_says_which_routes_need_a_key_and_which_headers_actions_read(ref):
    doc = httpx.get(f"{ref.base_url}/openapi.json").json()
    operations = {
        (method.upper(), path): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    }
    public = {key for key, op in operations.items() if op.get("security") == []}
    assert {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/v1/errors")} <= public
    assert ("GET", "/v1/oauth/amazon/callback") in public
    for key, op in operations.items():
        if key not in public:
            assert {"401", "403", "429"} <= set(op["responses"]), key

    disconnect = operations[("POST", "/v1/connections/{connection_id}/disconnect")]
    headers = {p["name"] for p in disconnect["parameters"] if p["in"] == "header"}
    assert headers == {"If-Match", "Idempotency-Key"}
    assert {"404", "409", "412", "422"} <= set(disconnect["responses"])
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code", "detail"} <= set(problem["required"])

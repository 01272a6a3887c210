"""Every JSON answer matches the schema `openapi.yaml` declares for it (service/api/
responses.py), so the generated clients' typed models hold what the service sends.

The contract fuzz test checks the same (schemathesis' response_schema_conformance) on
whatever its random requests reach, which is mostly 404 and 422; here a connection walks
every track (Seller Central with a wrong and a right matrix, Ads, activation, a token of
each API, the access log, time travel, disconnection), an import, and a webhook endpoint
its whole life, and each answer on the way is checked against its declared schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml

from tests.conftest import LiveService, consent, start_service
from tests.credentials.helpers import SCOPES

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "openapi.yaml"
SCHEMA = schemathesis.openapi.from_path(OPENAPI)
# Answers that are not the service's JSON: Amazon's (the proxy), the owner's pages and
# redirects, the Mermaid/JSON state machine and the audit export (service/api/openapi_media.py).
NOT_JSON = {
    ("/v1/connections/{connection_id}/proxy/{api}/{path}", method)
    for method in ("get", "post", "put", "patch", "delete")
} | {
    ("/v1/oauth/amazon/callback", "get"),
    ("/v1/oauth/amazon-ads/callback", "get"),
    ("/v1/oauth/amazon/login", "get"),
    ("/v1/oauth/amazon/login", "post"),
    ("/v1/audit/export", "get"),
}


def test_every_json_answer_under_v1_declares_its_schema() -> None:
    """A new route returning `dict[str, Any]` would reach the clients as an untyped
    object: it must name its model in `responses=` (service/api/responses.py)."""
    document = yaml.safe_load(OPENAPI.read_text())
    untyped = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not path.startswith("/v1/") or (path, method) in NOT_JSON:
                continue
            for status, response in operation["responses"].items():
                schema = (response.get("content") or {}).get("application/json", {}).get("schema")
                if status.startswith("2") and response.get("content") is not None:
                    if not schema or schema == {"type": "object"}:
                        untyped.append(f"{method.upper()} {path} {status}")
    assert not untyped, untyped


@pytest.fixture(scope="module")
def served(postgres_url: str) -> Iterator[LiveService]:
    live = start_service(postgres_url, WEBHOOK_ALLOW_PRIVATE="1", RATE_LIMIT_PER_SECOND="0")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def api(served: LiveService) -> Iterator[httpx.Client]:
    with served.client("tenant_typed", [*SCOPES, "audit:read", "admin"]) as client:
        yield client


def checked(response: httpx.Response, path: str) -> Any:
    """The answer's JSON, after checking it against the declared schema of `path`."""
    assert response.status_code < 300, response.text
    method = response.request.method
    SCHEMA[path][method].validate_response(response)
    return response.json()


def test_a_connection_answers_as_declared_along_every_track(
    api: httpx.Client, served: LiveService
) -> None:
    one, act = "/v1/connections/{connection_id}", "/v1/connections/{connection_id}/"
    body = {
        "owner_email": "typed@example.com",
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        "requires_advertising": True,
        "invited_by": {"name": "Ann", "email": "ann@agency.example", "role": "agency"},
        "metadata": {"crm": "42"},
    }
    c = checked(api.post("/v1/connections", json=body), "/v1/connections")
    cid = c["id"]
    checked(api.post(f"/v1/connections/{cid}/resend_invitation"), act + "resend_invitation")
    started = checked(
        api.post(f"/v1/connections/{cid}/start_authorization"), act + "start_authorization"
    )
    consent(api, started["consent_url"]).raise_for_status()
    invited = checked(
        api.post(f"/v1/connections/{cid}/invite_seller_central_user"),
        act + "invite_seller_central_user",
    )
    assert invited["seller_central"]["status"] == "invited"
    required = invited["required_permissions"]
    wrong = checked(
        api.post(
            f"/v1/connections/{cid}/confirm_seller_central_user",
            json={"permissions": {category: "none" for category in required}},
        ),
        act + "confirm_seller_central_user",
    )
    assert wrong["permissions_verified"] is False and wrong["last_error"]["differences"]
    guide = checked(api.get(f"/v1/connections/{cid}/guide"), one + "/guide")
    assert guide["last_error"]["remediation"]
    checked(
        api.post(
            f"/v1/connections/{cid}/confirm_seller_central_user",
            json={"permissions": required},
        ),
        act + "confirm_seller_central_user",
    )
    ads = checked(
        api.post(f"/v1/connections/{cid}/start_advertising_authorization"),
        act + "start_advertising_authorization",
    )
    consent(api, ads["consent_url"]).raise_for_status()
    active = checked(api.post(f"/v1/connections/{cid}/activate"), act + "activate")
    assert active["state"] == "active" and active["advertising_profiles"]

    for which in ("sp-api", "ads"):
        answer = api.post(f"/v1/connections/{cid}/access_tokens", json={"api": which})
        checked(answer, one + "/access_tokens")
    checked(api.get(f"/v1/connections/{cid}/access_log"), one + "/access_log")
    checked(api.get(f"/v1/connections/{cid}", params={"version": 1}), one)
    as_of = active["updated_at"]
    checked(api.get(f"/v1/connections/{cid}", params={"as_of": as_of}), one)
    checked(api.get(f"/v1/connections/{cid}/events", params={"limit": 3}), one + "/events")
    checked(api.get(f"/v1/connections/{cid}/emails"), one + "/emails")
    checked(api.get(f"/v1/connections/{cid}/audit"), one + "/audit")
    gone = checked(
        api.post(f"/v1/connections/{cid}/disconnect", json={"reason": "typed"}),
        act + "disconnect",
    )
    assert gone["invitation_url"] is None
    checked(api.get("/v1/connections", params={"limit": 1}), "/v1/connections")

    seller = f"A1TYPED{uuid.uuid4().hex[:8].upper()}"  # one live connection per seller
    imported = {
        **{k: body[k] for k in ("owner_email", "region", "marketplace_ids")},
        "selling_partner_id": seller,
        "refresh_token": f"Atzr|sandbox-{seller}-typed",
    }
    made = checked(api.post("/v1/connections/import", json=imported), "/v1/connections/import")
    assert made["selling_partner_id_source"] == "import"
    api.post(f"/v1/connections/{made['id']}/invite_seller_central_user").raise_for_status()
    failed = checked(
        api.post(
            f"/v1/connections/{made['id']}/fail_seller_central_authorization",
            json={"detail": "no user"},
        ),
        act + "fail_seller_central_authorization",
    )
    assert failed["last_error"]["code"] == "SELLER_CENTRAL_AUTHORIZATION_FAILED"

    checked(api.get("/v1/events", params={"limit": 5}), "/v1/events")
    checked(api.get("/v1/errors"), "/v1/errors")
    checked(api.get("/v1/state-machine"), "/v1/state-machine")
    checked(api.post("/v1/admin/projections/rebuild"), "/v1/admin/projections/rebuild")


def test_a_webhook_endpoint_answers_as_declared_its_whole_life(
    api: httpx.Client, served: LiveService
) -> None:
    one = "/v1/webhook_endpoints/{endpoint_id}"
    made = checked(
        api.post("/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/hooks"}),
        "/v1/webhook_endpoints",
    )
    eid = made["id"]
    assert made["secret"].startswith("whsec_")
    api.post(
        "/v1/connections",
        json={
            "owner_email": "hook@example.com",
            "region": "eu",
            "marketplace_ids": ["A1PA6795UKMFR9"],
        },
    ).raise_for_status()
    served.services.webhooks.outbox.catch_up()
    checked(api.get("/v1/webhook_endpoints"), "/v1/webhook_endpoints")
    checked(api.get(f"/v1/webhook_endpoints/{eid}"), one)
    checked(api.patch(f"/v1/webhook_endpoints/{eid}", json={"description": "typed"}), one)
    checked(api.post(f"/v1/webhook_endpoints/{eid}/rotate_secret"), one + "/rotate_secret")
    page = checked(api.get(f"/v1/webhook_endpoints/{eid}/deliveries"), one + "/deliveries")
    delivery = page["data"][0]["id"]
    checked(api.get(f"/v1/webhook_deliveries/{delivery}"), "/v1/webhook_deliveries/{delivery_id}")
    checked(
        api.post(f"/v1/webhook_deliveries/{delivery}/redeliver"),
        "/v1/webhook_deliveries/{delivery_id}/redeliver",
    )
    replay = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    checked(api.post(f"/v1/webhook_endpoints/{eid}/replay", json=replay), one + "/replay")
    checked(api.delete(f"/v1/webhook_endpoints/{eid}"), one)

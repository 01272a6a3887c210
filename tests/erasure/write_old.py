"""Run by the legacy erasure test with the release before erasure existed first on
sys.path (tests/store/test_upgrade's old tree): records, through that release's own
service over HTTP, two connections with a distinctive value in every personal field (their
events hashed over the plaintext, as that release did) and disconnects the first. Prints
their ids and values as JSON. Self-contained: the old tree has no tests.erasure."""

import json
import sys

import httpx

from domain.permissions import REQUIRED_SC_PERMISSIONS
from tests.conftest import ALL_SCOPES, consent, start_service

TENANT = "tenant_legacy"
HOOK_URL = "http://127.0.0.1:9/hook"  # nothing listens: the delivery waits, its body kept


def person(tag: str) -> dict:
    return {
        "owner_email": f"zelda.owner.{tag}@erasure.example",
        "invited_by": {
            "name": f"Quentin Inviterson {tag}",
            "email": f"quentin.inviter.{tag}@erasure.example",
            "role": "agency",
        },
        "metadata": {"crm_contact": f"Ursula Metadottir {tag}"},
        "detail": f"Amazon says seller Xavier Detailer {tag} removed the user",
    }


def walk(api: httpx.Client, who: dict) -> str:
    body = {"region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}
    body.update({k: v for k, v in who.items() if k != "detail"})
    created = api.post(
        "/v1/connections", json=body, headers={"Idempotency-Key": who["owner_email"]}
    )
    created.raise_for_status()
    cid = created.json()["id"]
    started = api.post(f"/v1/connections/{cid}/start_authorization")
    started.raise_for_status()
    assert consent(api, started.json()["consent_url"]).status_code == 200
    for action, data in (
        ("invite_seller_central_user", None),
        ("fail_seller_central_authorization", {"detail": who["detail"]}),
        ("confirm_seller_central_user", {"permissions": dict(REQUIRED_SC_PERMISSIONS)}),
        ("activate", None),
    ):
        api.post(f"/v1/connections/{cid}/{action}", json=data).raise_for_status()
    return cid


def main(database_url: str) -> dict:
    live = start_service(database_url, WEBHOOK_ALLOW_PRIVATE="1")
    try:
        secret = live.services.api_keys.create(TENANT, ALL_SCOPES, "legacy").secret
        api = httpx.Client(
            base_url=live.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
        )
        api.post(
            "/v1/webhook_endpoints", json={"url": HOOK_URL, "event_types": ["*"]}
        ).raise_for_status()
        gone, kept = person("6613"), person("7724")
        gone_id, kept_id = walk(api, gone), walk(api, kept)
        api.post(f"/v1/connections/{gone_id}/disconnect").raise_for_status()
        live.services.webhooks.run_once()
        return {
            "api_key": secret,
            "gone": {"id": gone_id, **gone},
            "kept": {"id": kept_id, **kept},
        }
    finally:
        live.stop()


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))

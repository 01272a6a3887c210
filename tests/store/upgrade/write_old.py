"""Run by the upgrade test with an OLD revision of the code first on sys.path: writes a
little of everything to DATABASE (argv[1]) through that revision's own service over HTTP,
and prints as JSON what it answered, for the new code to answer again after migrating.

Uses only what that revision's tests/conftest.py offers (start_service, new_connection,
consent), so it runs against 0e63033 as it was.
"""

import json
import sys

import httpx

import service
from tests.conftest import ALL_SCOPES, consent, new_connection, start_service

TENANT = "tenant_upgrade"
# Nothing listens on the discard port: the attempt fails and the delivery waits to retry.
HOOK_URL = "http://127.0.0.1:9/hook"


def main(database_url: str) -> dict:
    live = start_service(database_url, WEBHOOK_ALLOW_PRIVATE="1")
    try:
        secret = live.services.api_keys.create(TENANT, ALL_SCOPES, "upgrade").secret
        api = httpx.Client(
            base_url=live.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
        )
        endpoint = api.post("/v1/webhook_endpoints", json={"url": HOOK_URL, "event_types": ["*"]})
        endpoint.raise_for_status()
        endpoint_id = endpoint.json()["id"]

        body = {
            "owner_email": "o@example.com",
            "region": "na",
            "marketplace_ids": ["ATVPDKIKX0DER"],
        }
        created = api.post("/v1/connections", json=body, headers={"Idempotency-Key": "up-1"})
        created.raise_for_status()
        active = created.json()["id"]
        started = api.post(f"/v1/connections/{active}/start_authorization")
        started.raise_for_status()
        assert consent(api, started.json()["consent_url"]).status_code == 200
        invited = new_connection(api, owner_email="second@example.com")["id"]
        gone = new_connection(api, region="eu", marketplace_ids=["A1PA6795UKMFR9"])["id"]
        api.post(f"/v1/connections/{gone}/disconnect").raise_for_status()
        live.services.webhooks.run_once()

        ids = [active, invited, gone]
        return {
            "code": service.__file__,
            "api_key": secret,
            "connections": {i: api.get(f"/v1/connections/{i}").json() for i in ids},
            "listing": api.get("/v1/connections").json(),
            "histories": {i: api.get(f"/v1/connections/{i}/events").json() for i in ids},
            "events": api.get("/v1/events").json(),
            "endpoint": api.get(f"/v1/webhook_endpoints/{endpoint_id}").json(),
            "deliveries": api.get(f"/v1/webhook_endpoints/{endpoint_id}/deliveries").json(),
            "idempotent": {"key": "up-1", "body": body, "response": created.json()},
        }
    finally:
        live.stop()


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))

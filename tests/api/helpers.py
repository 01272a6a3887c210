"""What the API tests share: a valid create, and checks of a problem answer, of what a
tenant sees and of a connection's history."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests import contract
from tests.conftest import SECRET_KEY, LiveService

PROBLEM_JSON = "application/problem+json"
VALID = {"owner_email": "owner@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}
ACTIONS = list(contract.PUBLIC_ACTIONS)
CONNECTIONS = str(Path(sys.executable).parent / "connections")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"].strip()
    return body


def create(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/connections", json={**VALID, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def count(api: httpx.Client) -> int:
    response = api.get("/v1/connections", params={"limit": 100})
    assert response.status_code == 200, response.text
    return len(response.json()["data"])


def history(api: httpx.Client, connection_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/connections/{connection_id}/events", params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def key(live: LiveService, tenant: str, scopes: list[str]) -> dict[str, str]:
    """Headers with a new key of `tenant`'s for `scopes`."""
    return {"Authorization": f"Bearer {live.services.api_keys.create(tenant, scopes).secret}"}


def cli(live: LiveService, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`connections ARGS` on the live service's store, in its own process, from `cwd`."""
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": live.services.settings.database_url,
        "SECRET_KEY": SECRET_KEY,
        "SANDBOX": "1",
    }
    return subprocess.run(
        [CONNECTIONS, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

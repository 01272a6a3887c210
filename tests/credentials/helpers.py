"""Connections brought to a usable state through the sandbox, as a backend meets them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ALL_SCOPES, consent, new_connection

SCOPES = [*ALL_SCOPES, "credentials:read", "proxy:use"]


def authorized(api: httpx.Client, outcome: str = "approve", **fields: Any) -> dict[str, Any]:
    """A seller connection in `api_authorized` (its Seller Central track not started)."""
    c = new_connection(api, **fields)
    url = api.post(f"/v1/connections/{c['id']}/start_authorization").json()["consent_url"]
    consent(api, url, outcome).raise_for_status()
    c = api.get(f"/v1/connections/{c['id']}").json()
    assert c["state"] == "api_authorized", c
    return c


def active(api: httpx.Client, outcome: str = "approve", **fields: Any) -> dict[str, Any]:
    """An active vendor-style connection (no Seller Central user required)."""
    c = authorized(api, outcome, requires_seller_central_user=False, **fields)
    response = api.post(f"/v1/connections/{c['id']}/activate")
    assert response.status_code == 200, response.text
    return response.json()


def token(client: httpx.Client, connection_id: str, **body: Any) -> httpx.Response:
    return client.post(
        f"/v1/connections/{connection_id}/access_tokens", json={"api": "sp-api", **body}
    )


def events_of(api: httpx.Client, connection_id: str) -> list[dict[str, Any]]:
    return api.get(f"/v1/connections/{connection_id}/events", params={"limit": 500}).json()["data"]

"""What the consent tests share: the owner's steps (Amazon's redirect, the callback), a
connection's state and history, the catalogue, and the outcomes the sandbox offers."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx

from service.sandbox.outcomes import APPROVE, SANDBOX_OUTCOMES, STOPPED_ON_AMAZON
from tests.conftest import consent, new_connection

TENANT = "tenant_a"  # the tenant of the `api` fixture's key

# Every outcome the sandbox offers on the SP-API consent that ends the attempt in failure:
# all of SANDBOX_OUTCOMES but approving, the Ads-only ones, and ACCESS_REVOKED (whose consent
# succeeds; Amazon refuses only the later refreshes, see its own test below).
ADS_ONLY = tuple(o for o in SANDBOX_OUTCOMES if o.startswith("ADVERTISING_"))
SP_FAILURES = tuple(
    o
    for o in SANDBOX_OUTCOMES
    if o.isupper()
    and o not in ("ACCESS_REVOKED", "ACCOUNT_IN_STAGING", *ADS_ONLY, *STOPPED_ON_AMAZON)
)
ADS_FAILURES = ("ADVERTISING_NOT_ENABLED", "ADVERTISING_ACCOUNT_MISMATCH")


# --------------------------------------------------------------------------- helpers


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str) -> str:
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(query).items()}
    params.update(changes)
    return urlunsplit((scheme, netloc, path, urlencode(params), fragment))


def amazon_redirect(consent_url: str, outcome: str = APPROVE, **extra: str) -> str:
    """The owner picks `outcome` on the sandbox consent page; returns where Amazon sends
    the browser back to (the service's callback, with code or error and the state)."""
    page = httpx.get(with_query(consent_url, sandbox_outcome=outcome, **extra), timeout=30)
    assert page.status_code in (302, 303), page.text
    return page.headers["location"]


def callback(location: str) -> httpx.Response:
    return httpx.get(location, headers={"Accept": "application/json"}, timeout=30)


def start(api: httpx.Client, cid: str, action: str = "start_authorization") -> dict[str, Any]:
    response = api.post(f"/v1/connections/{cid}/{action}")
    assert response.status_code == 200, response.text
    return response.json()


def get(api: httpx.Client, cid: str) -> dict[str, Any]:
    response = api.get(f"/v1/connections/{cid}")
    assert response.status_code == 200, response.text
    return response.json()


def history(api: httpx.Client, cid: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/connections/{cid}/events", params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def authorize(api: httpx.Client, cid: str, outcome: str = APPROVE, **extra: str) -> httpx.Response:
    started = start(api, cid)
    return consent(api, started["consent_url"], outcome, **extra)


def api_authorized(api: httpx.Client, **fields: Any) -> str:
    cid = new_connection(api, **fields)["id"]
    back = authorize(api, cid)
    assert back.status_code == 200, back.text
    assert back.json()["state"] == "api_authorized", back.text
    return cid


def catalogue(api: httpx.Client) -> dict[str, dict[str, Any]]:
    response = api.get("/v1/errors")
    assert response.status_code == 200, response.text
    return {e["code"]: e for e in response.json()["data"]}


def assert_problem(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] and body["status"] == response.status_code
    return body


def unique_partner(prefix: str) -> str:
    """A selling partner id no other test of the shared store uses."""
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"

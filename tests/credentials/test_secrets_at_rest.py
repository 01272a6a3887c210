"""Refresh tokens and LWA authorization codes never leave the service in plain text (SPEC §7):
not in the store (raw SQLite file bytes / every row of every PostgreSQL table), not in any
API response, not in the event feed or the audit export, and not in the logs.

The owner's browser is played with `http.client`, which logs nothing, so every captured log
line was written by the service (or by the test's API client, whose URLs carry no secret).
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest

from domain.connection import Context
from domain.permissions import REQUIRED_SC_PERMISSIONS
from tests.conftest import ALL_SCOPES, PG_URL, LiveService, read_files_elsewhere

TENANT = "tenant_secrets"


class Browser:
    """The owner's browser: one GET, no redirects followed, nothing logged."""

    def get(self, url: str, accept_json: bool = False) -> tuple[int, dict[str, str], str]:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            headers = {"Accept": "application/json"} if accept_json else {}
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            body = response.read().decode("utf-8", "replace")
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            conn.close()


class Session:
    """The integrator's API client and the owner's browser, keeping every answer the
    service gave (status line, headers and body) except the sandbox Amazon's own pages,
    which play Amazon: their redirects carry the codes by design."""

    def __init__(self, live: LiveService) -> None:
        self.live = live
        self.received: list[str] = []
        key = live.services.api_keys.create(TENANT, ALL_SCOPES).secret
        self.api = httpx.Client(
            base_url=live.url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
            event_hooks={"response": [self._keep]},
        )
        self.browser = Browser()
        self.codes: list[str] = []

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        self.received.append(f"{response.status_code} {dict(response.headers)} {response.text}")

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.api.request(method, path, **kwargs)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def consent(self, consent_url: str, outcome: str = "approve") -> dict[str, Any]:
        """Picks `outcome` on the sandbox consent page, keeps the code Amazon's redirect
        carries, then lands on the service's callback."""
        status, headers, _ = self.browser.get(f"{consent_url}&sandbox_outcome={outcome}")
        assert status in (302, 303)
        location = headers["location"]
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        code = query.get("spapi_oauth_code") or query.get("code")
        assert code, location
        self.codes.append(code)
        status, headers, body = self.browser.get(location, accept_json=True)
        self.received.append(f"{status} {headers} {body}")
        assert status == 200, body
        return json.loads(body)


def refresh_tokens(live: LiveService, connection_id: str) -> list[str]:
    c = live.services.app.load(TENANT, connection_id)
    encrypted = [c.refresh_token_encrypted, c.ads_refresh_token_encrypted]
    return [live.services.box.decrypt(e) for e in encrypted if e]


def full_lifecycle(live: LiveService, s: Session) -> tuple[str, list[str]]:
    """A seller with the Seller Central user and the Advertising track, from invitation to
    active, through a failed attempt and a yearly re-authorization; returns the
    connection's id and every refresh token the sandbox issued to it."""
    body = {
        "owner_email": "owner@example.com",
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        "requires_advertising": True,
    }
    cid = s.call("POST", "/v1/connections", json=body)["id"]

    failed = s.call("POST", f"/v1/connections/{cid}/start_authorization")
    assert s.consent(failed["consent_url"], "MARKETPLACE_NOT_PARTICIPATING")["succeeded"] is False

    started = s.call("POST", f"/v1/connections/{cid}/start_authorization")
    assert s.consent(started["consent_url"])["state"] == "api_authorized"
    s.call("POST", f"/v1/connections/{cid}/invite_seller_central_user")
    s.call(
        "POST",
        f"/v1/connections/{cid}/confirm_seller_central_user",
        json={"permissions": REQUIRED_SC_PERMISSIONS},
    )
    ads = s.call("POST", f"/v1/connections/{cid}/start_advertising_authorization")
    assert s.consent(ads["consent_url"])["succeeded"] is True
    assert s.call("POST", f"/v1/connections/{cid}/activate")["state"] == "active"
    tokens = refresh_tokens(live, cid)
    assert len(tokens) == 2  # SP-API and Ads

    live.clock.advance(timedelta(days=335))
    c = live.services.app.load(TENANT, cid)
    c.mark_reauth_due(Context(actor="test", at=live.clock.now()))
    live.services.connections.save(c)
    again = s.call("POST", f"/v1/connections/{cid}/start_reauthorization")
    assert s.consent(again["consent_url"])["state"] == "active"
    tokens += refresh_tokens(live, cid)
    return cid, sorted(set(tokens))


def read_everything(live: LiveService, s: Session, cid: str) -> None:
    """Every read an integrator or an auditor can make about the connection."""
    s.call("GET", f"/v1/connections/{cid}")
    s.call("GET", f"/v1/connections/{cid}", params={"version": 3})
    s.call("GET", "/v1/connections")
    s.call("GET", f"/v1/connections/{cid}/events", params={"limit": 500})
    s.call("GET", f"/v1/connections/{cid}/guide")
    s.call("GET", f"/v1/connections/{cid}/audit")
    s.call("GET", "/v1/events", params={"limit": 1000})
    for fmt in ("jsonl", "csv"):
        response = s.api.get("/v1/audit/export", params={"format": fmt})
        assert response.status_code == 200, response.text


def needles(secrets: list[str]) -> list[str]:
    """Each secret whole, and its random tail alone: it survives any URL or JSON escaping
    of the prefix (`Atzr|` → `Atzr%7C`)."""
    found = []
    for secret in secrets:
        found += [secret, secret.rsplit(".", 1)[-1]]
    assert all(len(n) >= 24 for n in found)
    return found


def leaks(haystack: str, secrets: list[str]) -> list[str]:
    """The needles found in `haystack`, as text or as the hex PostgreSQL shows bytea in."""
    lowered = haystack.lower()
    return [n for n in needles(secrets) if n in haystack or n.encode().hex() in lowered]


def store_contents(live: LiveService) -> str:
    url = live.services.settings.database_url
    if url.startswith("sqlite:///"):
        db = Path(url[len("sqlite:///") :])
        files = [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-journal")) if p.exists()]
        return read_files_elsewhere(files).decode("latin-1")
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    rows: list[str] = []
    with psycopg.connect(PG_URL) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s AND table_type = 'BASE TABLE'",
                (schema,),
            )
        ]
        assert tables
        for table in tables:
            rows += [r[0] for r in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t')]
    return "\n".join(rows)


@pytest.fixture
def session(live: LiveService) -> Iterator[Session]:
    s = Session(live)
    with s.api:
        yield s


def test_refresh_tokens_and_lwa_codes_are_nowhere_at_rest_in_responses_events_or_logs(
    live, session, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    # httpx's and httpcore's own lines too, even after another test configured logging
    # (which quiets them).
    for noisy in ("httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=noisy)
    s = session
    cid, tokens = full_lifecycle(live, s)
    read_everything(live, s, cid)
    secrets = tokens + s.codes
    assert len(tokens) == 3 and len(s.codes) == 4  # failed, SP-API, Ads, re-authorization
    assert all(t.startswith("Atzr|") for t in tokens)

    stored = store_contents(live)
    # The scan sees the event data: the selling partner id and a token's ciphertext are
    # there (plain in SQLite, hex-encoded bytea in PostgreSQL).
    c = live.services.app.load(TENANT, cid)
    assert leaks(stored, [c.refresh_token_encrypted])
    assert c.selling_partner_id in stored or c.selling_partner_id.encode().hex() in stored
    assert leaks(stored, secrets) == []

    received = "\n".join(s.received)
    assert cid in received and '"object":"list"' in received.replace(" ", "")
    assert leaks(received, secrets) == []

    feed = s.api.get("/v1/events", params={"limit": 1000})
    assert [e["type"] for e in feed.json()["data"]].count("connection.api_authorized") == 1
    assert leaks(feed.text, secrets) == []

    logged = caplog.records
    assert any(r.name == "httpx" and "/auth/o2/token" in r.getMessage() for r in logged), (
        "the service's own calls to LWA should have been captured"
    )
    assert any(r.levelno == logging.DEBUG for r in logged)
    render = logging.Formatter("%(name)s %(levelname)s %(message)s")
    log_text = "\n".join(render.format(r) for r in logged)
    assert leaks(log_text, secrets) == []
    out, err = capfd.readouterr()
    assert leaks(out + err, secrets) == []


def test_access_tokens_leave_only_through_the_access_tokens_endpoint(live, session, caplog, capfd):
    """Access tokens are secrets for an hour (SPEC §7, §9): outside the answer that hands
    one out, they appear nowhere: not in the store, other responses, proxied answers, the
    access log, events, the audit export or the logs."""
    caplog.set_level(logging.DEBUG)
    s = session
    cid, _ = full_lifecycle(live, s)
    key = live.services.api_keys.create(TENANT, [*ALL_SCOPES, "credentials:read"]).secret
    issued: list[str] = []
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}) as taker:
        for api in ("sp-api", "ads"):
            answer = taker.post(f"/v1/connections/{cid}/access_tokens", json={"api": api})
            assert answer.status_code == 201, answer.text
            issued.append(answer.json()["access_token"])
        live.clock.advance(timedelta(minutes=58))  # stale: a second SP-API token
        again = taker.post(f"/v1/connections/{cid}/access_tokens", json={"api": "sp-api"})
        issued.append(again.json()["access_token"])
    assert len(set(issued)) == 3
    proxy_key = live.services.api_keys.create(TENANT, ["proxy:use"]).secret
    proxied = {"Authorization": f"Bearer {proxy_key}"}
    orders = (
        f"/v1/connections/{cid}/proxy/sp-api/orders/v0/orders"
        "?MarketplaceIds=ATVPDKIKX0DER&CreatedAfter=2026-01-01T00:00:00Z"
    )
    page = s.api.get(orders, headers=proxied)
    order = page.json()["payload"]["Orders"][0]["AmazonOrderId"]
    for path in (
        f"/v1/connections/{cid}/proxy/sp-api/orders/v0/orders/{order}/address",
        f"/v1/connections/{cid}/proxy/ads/v2/profiles",
    ):
        assert s.api.get(path, headers=proxied).status_code == 200
    read_everything(live, s, cid)
    log = s.call("GET", f"/v1/connections/{cid}/access_log")["data"]
    assert {e["kind"] for e in log} == {"access_token", "proxy"} and len(log) == 6

    rows = live.services.tables.query("SELECT token_encrypted FROM {p}access_tokens")
    cached = [live.services.box.decrypt(r["token_encrypted"]) for r in rows]
    secrets = sorted(set(issued + cached))
    assert leaks(store_contents(live), secrets) == []
    assert leaks("\n".join(s.received), secrets) == []
    render = logging.Formatter("%(name)s %(levelname)s %(message)s")
    assert leaks("\n".join(render.format(r) for r in caplog.records), secrets) == []
    out, err = capfd.readouterr()
    assert leaks(out + err, secrets) == []

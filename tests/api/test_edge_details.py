"""The smaller promises of SECURITY.md, each a reproduction that failed before: Amazon's
error texts capped and sanitised in the permanent log, no signed state in idempotency
records, WWW-Authenticate on a 401, one charset on the callback page, the SQLite file
readable by its owner only, passwords holding an @ masked whole, relative SQLite paths
made absolute."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from adapters.eventstore import DatabaseUrlError, eventsourcing_env
from service.settings import Settings
from tests.conftest import SECRET_KEY, new_connection, start_service
from tests.connect.consents.helpers import amazon_redirect, query_of, with_query
from tests.credentials.test_secrets_at_rest import store_contents


def test_amazons_error_description_is_kept_capped_on_one_line_without_control_marks(live, api):
    c = new_connection(api)
    consent_url = api.post(f"/v1/connections/{c['id']}/start_authorization").json()["consent_url"]
    location = amazon_redirect(consent_url)
    description = "Denied\u200f by\u200b the\u00a0seller " + "y" * 2000
    hostile = with_query(location, error="access_denied", error_description=description)
    for key in ("spapi_oauth_code", "selling_partner_id"):
        hostile = hostile.replace(f"{key}={query_of(location)[key]}", "x=1")
    back = httpx.get(hostile, headers={"Accept": "application/json"}, timeout=30)
    assert back.status_code == 200, back.text
    detail = api.get(f"/v1/connections/{c['id']}").json()["last_error"]["detail"]
    assert detail.startswith("Denied by the seller y") and len(detail) <= 500
    assert "\u200f" not in detail and "\u200b" not in detail
    events = api.get(f"/v1/connections/{c['id']}/events").text
    assert "\\u200f" not in events.lower() and "y" * 600 not in events


def test_a_bidi_override_or_nul_in_a_callback_parameter_is_refused_and_records_nothing(live, api):
    c = new_connection(api)
    consent_url = api.post(f"/v1/connections/{c['id']}/start_authorization").json()["consent_url"]
    location = amazon_redirect(consent_url)
    before = len(api.get(f"/v1/connections/{c['id']}/events").json()["data"])
    for text in ("a\u202eb", "a\u0000b"):
        bad = with_query(location, error="access_denied", error_description=text)
        response = httpx.get(bad, headers={"Accept": "application/json"}, timeout=30)
        assert response.status_code == 422, response.text
    assert len(api.get(f"/v1/connections/{c['id']}/events").json()["data"]) == before


def test_idempotency_records_hold_no_signed_state(live, api):
    c = new_connection(api)
    key = {"Idempotency-Key": "start-once"}
    first = api.post(f"/v1/connections/{c['id']}/start_authorization", headers=key)
    replay = api.post(f"/v1/connections/{c['id']}/start_authorization", headers=key)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["consent_url"] == first.json()["consent_url"]
    state = query_of(first.json()["consent_url"])["state"]
    signed = state.partition(".")[2]
    assert signed and signed not in store_contents(live)


def test_a_401_names_its_scheme_in_www_authenticate(live):
    for headers in ({}, {"Authorization": "Bearer sk_unknown_key_0123456789"}):
        response = httpx.get(f"{live.url}/v1/connections", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_pages_and_text_we_serve_name_one_charset(live):
    """The callback's page used to say `charset=utf-8; charset=utf-8`."""
    c = live.client()
    connection = new_connection(c)
    consent_url = c.post(f"/v1/connections/{connection['id']}/start_authorization").json()[
        "consent_url"
    ]
    pages = [
        httpx.get(
            amazon_redirect(consent_url),
            headers={"Accept": "text/html"},
            follow_redirects=True,
            timeout=30,
        ),
        httpx.get(
            f"{live.url}/v1/oauth/amazon/callback",
            params={"state": "forged.state"},
            headers={"Accept": "text/html"},
            timeout=30,
        ),
    ]
    for page in pages:
        content_type = page.headers["content-type"]
        assert content_type.startswith("text/html"), (page.status_code, content_type)
        assert content_type.count("charset") == 1, content_type
    texts = [c.get("/v1/audit/export", params={"format": "csv"}), httpx.get(f"{live.url}/metrics")]
    for text in texts:
        assert text.status_code == 200
        assert text.headers["content-type"].count("charset") == 1, text.headers["content-type"]


def test_the_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    db = tmp_path / "connections.db"  # a file the service creates itself
    live = start_service(f"sqlite:///{db}")
    try:
        with live.client() as client:
            new_connection(client)
    finally:
        live.stop()
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_world_readable_sqlite_file_is_made_private(tmp_path):
    db = tmp_path / "old.db"
    db.write_bytes(b"")
    db.chmod(0o644)
    eventsourcing_env(f"sqlite:///{db}")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_a_relative_sqlite_path_is_made_absolute_and_options_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = eventsourcing_env("sqlite:///data/connections.db")
    assert env["SQLITE_DBNAME"] == str(tmp_path / "data" / "connections.db")
    with pytest.raises(DatabaseUrlError):
        eventsourcing_env("sqlite:///data/connections.db?mode=ro")


def test_a_database_password_holding_an_at_sign_is_masked_whole():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://app:p@ss@w0rd@db.internal:5432/connections",
            "SECRET_KEY": SECRET_KEY,
        }
    )
    shown = settings.masked()["database_url"]
    assert shown == "postgresql://app:********@db.internal:5432/connections"


def test_event_positions_say_nothing_of_other_tenants_volume(live, api):
    """They were the store's global positions: the gap between two of a tenant's events
    was the number of events every other tenant recorded meanwhile."""
    new_connection(api)
    with live.client("tenant_b") as other:
        for _ in range(10):
            new_connection(other)
    new_connection(api)
    live.services.projection.catch_up()
    mine = api.get("/v1/events").json()["data"]
    assert len(mine) == 2
    assert abs(mine[1]["position"] - mine[0]["position"]) > 1000
    # Still a cursor: paging with next_after walks the tenant's events in commit order.
    first = api.get("/v1/events", params={"limit": 1}).json()
    second = api.get("/v1/events", params={"limit": 1, "after": first["next_after"]}).json()
    assert [e["id"] for e in first["data"] + second["data"]] == [e["id"] for e in mine]
    rest = api.get("/v1/events", params={"after": second["next_after"]}).json()
    assert rest["data"] == [] and rest["has_more"] is False
    exported = [line for line in api.get("/v1/audit/export").text.splitlines() if line]
    assert [json.loads(line)["position"] for line in exported] == [e["position"] for e in mine]

"""A database written by the code before migrations existed (commit 0e63033) is upgraded by
`connections migrate` and then served by today's code as it was served then: every
connection, its history, the audit events, the webhook endpoint and its deliveries, the
API key and the idempotency record. On both stores.

The old revision is taken from this repository's own history (`git archive`), run in a
subprocess with its source first on the path, and drives its own service over HTTP.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import start_service

ROOT = Path(__file__).resolve().parents[2]
BEFORE_MIGRATIONS = "0e63033"
TREES = ("domain", "adapters", "service", "tests")
WRITER = Path(__file__).with_name("upgrade") / "write_old.py"


@pytest.fixture(scope="module")
def old_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source tree of BEFORE_MIGRATIONS, unpacked from git (a clone with history)."""
    archived = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BEFORE_MIGRATIONS, *TREES],
        capture_output=True,
    )
    assert archived.returncode == 0, (
        f"commit {BEFORE_MIGRATIONS} is needed from git history: "
        f"{archived.stderr.decode(errors='replace').strip()}"
    )
    folder = tmp_path_factory.mktemp("before-migrations")
    with tarfile.open(fileobj=io.BytesIO(archived.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def write_with_old_code(old_code: Path, database_url: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(old_code)}
    done = subprocess.run(
        [sys.executable, str(WRITER), database_url],
        cwd=old_code,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    written = json.loads(done.stdout)
    assert written["code"].startswith(str(old_code))  # the old revision really ran
    return written


def migrate(database_url: str) -> subprocess.CompletedProcess:
    connections = str(Path(sys.executable).with_name("connections"))
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "u" * 40}
    return subprocess.run(
        [connections, "migrate"], env=env, capture_output=True, text=True, timeout=120
    )


def same(old: object, new: object) -> bool:
    """`new` answers everything `old` did (fields added since are allowed)."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(k in new and same(v, new[k]) for k, v in old.items())
    if isinstance(old, list):
        return isinstance(new, list) and len(old) == len(new) and all(map(same, old, new))
    return old == new


def without_cursors(feed: dict) -> dict:
    rest = {k: v for k, v in feed.items() if k != "next_after"}
    rest["data"] = [{k: v for k, v in e.items() if k != "position"} for e in feed["data"]]
    return rest


def test_a_database_written_before_migrations_is_upgraded_and_served_as_before(
    old_code, empty_database_url
):
    old = write_with_old_code(old_code, empty_database_url)

    migrated = migrate(empty_database_url)
    assert migrated.returncode == 0, migrated.stderr
    assert "applied 0001" in migrated.stderr

    live = start_service(empty_database_url, WEBHOOK_ALLOW_PRIVATE="1", MIGRATE_ON_START="0")
    try:
        api = httpx.Client(
            base_url=live.url, headers={"Authorization": f"Bearer {old['api_key']}"}, timeout=30
        )
        for cid, connection in old["connections"].items():
            assert same(connection, api.get(f"/v1/connections/{cid}").json())
            assert same(old["histories"][cid], api.get(f"/v1/connections/{cid}/events").json())
        assert same(old["listing"], api.get("/v1/connections").json())
        # Positions became per-tenant opaque cursors (#16), so the feed is compared without them.
        assert same(without_cursors(old["events"]), without_cursors(api.get("/v1/events").json()))
        endpoint = old["endpoint"]["id"]
        assert same(old["endpoint"], api.get(f"/v1/webhook_endpoints/{endpoint}").json())
        deliveries = api.get(f"/v1/webhook_endpoints/{endpoint}/deliveries").json()
        assert same(old["deliveries"], deliveries)

        # The idempotency record replays the response the old code gave.
        replay = api.post(
            "/v1/connections",
            json=old["idempotent"]["body"],
            headers={"Idempotency-Key": old["idempotent"]["key"]},
        )
        assert replay.headers.get("Idempotent-Replayed") == "true"
        assert same(old["idempotent"]["response"], replay.json())

        # The deliveries the old code left waiting are retried when due.
        pending = [d for d in deliveries["data"] if d["status"] == "pending"]
        assert pending
        live.clock.advance(timedelta(hours=1))
        assert live.services.webhooks.run_once() >= len(pending)
        again = api.get(f"/v1/webhook_endpoints/{endpoint}/deliveries").json()["data"]
        retried = {d["id"]: d["attempt_count"] for d in again}
        assert all(retried[d["id"]] == d["attempt_count"] + 1 for d in pending)
    finally:
        live.stop()

    if empty_database_url.startswith("postgresql"):
        assert column_types(empty_database_url, "connections_view") >= {
            ("created_at", "timestamp with time zone"),
            ("document", "jsonb"),
        }


def column_types(database_url: str, table: str) -> set[tuple[str, str]]:
    base, _, schema = database_url.partition("?schema=")
    with psycopg.connect(base) as conn:
        rows = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        ).fetchall()
    return set(rows)

"""Connections recorded by the release before erasure existed (their events hashed over
the plaintext) can be erased too, on both stores: the erasure seals the hash of each such
event's redacted form, the events are redacted in place, and the chain still verifies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import start_service
from tests.erasure.forgotten import assert_forgotten, dump
from tests.store.test_upgrade import migrate, old_code  # noqa: F401  (the old tree)

WRITER = Path(__file__).with_name("write_old.py")
ERASED = "[erased]"


def write_with_old_code(old: Path, database_url: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(WRITER), database_url],
        cwd=old,
        env={**os.environ, "PYTHONPATH": str(old)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def values(who: dict) -> list[str]:
    return [
        who["owner_email"],
        who["invited_by"]["name"],
        who["invited_by"]["email"],
        *who["metadata"].values(),
        who["detail"],
    ]


def test_a_connection_recorded_before_erasure_existed_is_erased_and_still_verifies(
    old_code,  # noqa: F811
    empty_database_url,
):
    old = write_with_old_code(old_code, empty_database_url)
    gone, kept = old["gone"], old["kept"]
    assert gone["owner_email"].encode() in dump(empty_database_url)  # plaintext, as it was
    assert migrate(empty_database_url).returncode == 0

    live = start_service(empty_database_url, WEBHOOK_ALLOW_PRIVATE="1", MIGRATE_ON_START="0")
    try:
        api = httpx.Client(
            base_url=live.url, headers={"Authorization": f"Bearer {old['api_key']}"}, timeout=30
        )
        erased = api.post(f"/v1/connections/{gone['id']}/erase", json={"reason": "ticket 9"})
        assert erased.status_code == 200, erased.text
        assert erased.json()["owner_email"] == ERASED
        live.services.webhooks.run_once()

        assert_forgotten(dump(empty_database_url), values(gone))

        audit = api.get(f"/v1/connections/{gone['id']}/audit").json()
        assert audit["ok"] and audit["erased"], audit
        # Every event that held a personal value in plaintext was redacted, and the
        # erasure sealed the hash of its redacted form.
        assert audit["redacted_versions"][0] == 1 and len(audit["redacted_versions"]) >= 2
        assert api.get(f"/v1/connections/{kept['id']}/audit").json()["ok"]
        assert all(report.ok for report in live.services.audit.verify_all())

        history = api.get(f"/v1/connections/{gone['id']}/events").json()["data"]
        assert history[-1]["type"] == "connection.erased"
        assert history[0]["data"]["owner_email"] == ERASED
        assert history[0]["data"]["metadata"] == {"crm_contact": ERASED}
        found = api.get("/v1/connections", params={"owner_email": gone["owner_email"]})
        assert found.json()["data"] == []

        mine = api.get(f"/v1/connections/{kept['id']}").json()
        assert mine["owner_email"] == kept["owner_email"]
        assert mine["metadata"] == kept["metadata"]
        found = api.get("/v1/connections", params={"owner_email": kept["owner_email"]})
        assert [c["id"] for c in found.json()["data"]] == [kept["id"]]
        history = api.get(f"/v1/connections/{kept['id']}/events").json()["data"]
        assert kept["detail"] in str(history)
    finally:
        live.stop()

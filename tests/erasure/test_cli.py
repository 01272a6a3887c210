"""`connections erase` and `connections audit verify` as an operator runs them, on both stores."""

from __future__ import annotations

import json

from tests.conftest import run_cli, start_service
from tests.erasure.forgotten import create, personal


def test_the_cli_erases_a_disconnected_connection_and_refuses_a_live_one(database_url):
    live = start_service(database_url)
    try:
        api = live.client()
        ended, running = create(api, personal("3101"))["id"], create(api, personal("3102"))["id"]
        api.post(f"/v1/connections/{ended}/disconnect").raise_for_status()

        refused = run_cli(database_url, "erase", "--connection", running, "--reason", "ticket 5")
        assert refused.returncode == 1 and "INVALID_TRANSITION" in refused.stderr

        done = run_cli(database_url, "erase", "--connection", ended, "--reason", "ticket 5")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["id"] == ended
        history = api.get(f"/v1/connections/{ended}/events").json()["data"]
        assert history[-1]["type"] == "connection.erased" and history[-1]["actor"] == "cli"
        assert api.get(f"/v1/connections/{ended}").json()["owner_email"] == "[erased]"

        verified = run_cli(database_url, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "verified 2 connection(s): 0 broken" in verified.stderr
    finally:
        live.stop()

"""What a new user meets first runs as written: the README's walk-through (twice, on one
store), `connections audit export | head`, and `connections demo`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from service.api.caller import Caller
from tests.conftest import SECRET_KEY, free_port, start_service

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = str(Path(sys.executable).with_name("connections"))


def walk_through() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A walk-through with curl", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def cli_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "SANDBOX": "1",
    }


def test_the_readme_walk_through_runs_as_written_and_again(sqlite_url):
    live = start_service(sqlite_url, WEBHOOK_ALLOW_PRIVATE="1")
    try:
        script = walk_through()
        assert "make run &" in script.splitlines()[0]  # the service: started here instead
        # The receiver it starts in the background goes when the script ends, however it ends.
        script = "trap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + "\n".join(script.splitlines()[1:])
        script = script.replace("localhost:8000", live.url.removeprefix("http://"))
        script = script.replace(".venv/bin/connections", CONNECTIONS)
        script = script.replace("9000", str(free_port()))
        for attempt in (1, 2):
            done = subprocess.run(
                ["bash", "-e", "-c", script],
                env=cli_env(sqlite_url),
                capture_output=True,
                text=True,
                timeout=90,
            )
            assert done.returncode == 0, (attempt, done.stdout[-2000:], done.stderr[-2000:])
            assert '"state":"active"' in done.stdout.replace(" ", ""), done.stdout[-2000:]
            assert "Traceback" not in done.stderr
            assert done.stdout.count("occurred_at") >= 1  # the CSV export's header
    finally:
        live.stop()


def test_audit_export_into_head_stops_quietly(sqlite_url):
    live = start_service(sqlite_url)
    try:
        for n in range(150):  # more than a pipe holds, so the export is still writing
            live.services.connections.create(
                Caller(tenant_id="tenant_head", actor="readme"),
                owner_email=f"owner{n}@example.com",
                region="na",
                marketplace_ids=["ATVPDKIKX0DER"],
            )
    finally:
        live.stop()
    done = subprocess.run(
        [
            "bash",
            "-o",
            "pipefail",
            "-c",
            f"{CONNECTIONS} audit export --tenant tenant_head | head -1",
        ],
        env=cli_env(sqlite_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and "tenant_head" in done.stdout
    assert "Error" not in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_demo_says_where_its_throwaway_store_is_and_removes_it(tmp_path):
    done = subprocess.run(
        [CONNECTIONS, "demo"],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    named = re.search(r"on (\S+)/demo\.db \(deleted at the end\)", done.stderr)
    assert named and named.group(1).startswith(str(tmp_path)), done.stderr
    assert not Path(named.group(1)).exists()
    assert "active" in done.stdout
    assert not list(tmp_path.glob("connections-demo-*"))

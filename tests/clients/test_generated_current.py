"""Both clients are what openapi.yaml generates now (`make sdk`), and a change to the
contract makes both stale."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def check(openapi: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "clients" / "sdk.py"), "--check", "--openapi", str(openapi)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_both_clients_are_current_with_openapi_yaml() -> None:
    checked = check(ROOT / "openapi.yaml")
    assert checked.returncode == 0, f"{checked.stderr}\nrun `make sdk` and commit the result"


def test_a_new_operation_in_openapi_yaml_makes_both_clients_stale(tmp_path: Path) -> None:
    contract = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    action = contract["paths"]["/v1/connections/{connection_id}/disconnect"]
    contract["paths"]["/v1/connections/{connection_id}/erase"] = {
        "post": {**action["post"], "operationId": "eraseConnection", "summary": "Erase"}
    }
    changed = tmp_path / "openapi.yaml"
    changed.write_text(yaml.safe_dump(contract, sort_keys=False))

    checked = check(changed)

    assert checked.returncode == 1
    stale = checked.stderr
    assert "python/marketplace_connections/generated/api/connections/erase_connection.py" in stale
    assert "typescript/src/generated/schema.d.ts" in stale
    assert "typescript/src/generated/operations.ts" in stale  # and it takes a key


def test_both_clients_carry_the_services_version() -> None:
    service = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    python = tomllib.loads((ROOT / "clients/python/pyproject.toml").read_text())["project"]
    typescript = json.loads((ROOT / "clients/typescript/package.json").read_text())
    lock = json.loads((ROOT / "clients/typescript/package-lock.json").read_text())
    assert python["version"] == typescript["version"] == service
    assert lock["version"] == service  # npm ci refuses a lock that disagrees

"""What the erasure tests share: a connection with a distinctive value in every personal
field, walked to `active`, and a full dump of either store searched for those values."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import httpx

from domain.permissions import REQUIRED_SC_PERMISSIONS
from tests.conftest import consent, read_files_elsewhere


def personal(tag: str) -> dict[str, Any]:
    """Values found nowhere else: each names `tag` (one per connection of a test)."""
    return {
        "owner_email": f"zelda.owner.{tag}@erasure.example",
        "invited_by": {
            "name": f"Quentin Inviterson {tag}",
            "email": f"quentin.inviter.{tag}@erasure.example",
            "role": "agency",
        },
        "metadata": {"crm_contact": f"Ursula Metadottir {tag}", "phone": f"+49-30-{tag}"},
        "detail": f"Amazon says seller Xavier Detailer {tag} removed the user",
    }


def values_of(person: dict[str, Any]) -> list[str]:
    return [
        person["owner_email"],
        person["invited_by"]["name"],
        person["invited_by"]["email"],
        *person["metadata"].values(),
        person["detail"],
    ]


def create(api: httpx.Client, person: dict[str, Any]) -> dict[str, Any]:
    body = {
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        **{k: v for k, v in person.items() if k != "detail"},
    }
    key = {"Idempotency-Key": f"create-{person['owner_email']}"}
    response = api.post("/v1/connections", json=body, headers=key)
    assert response.status_code == 201, response.text
    return response.json()


def walk_to_active(api: httpx.Client, person: dict[str, Any]) -> str:
    """Created, a declined consent (the inviter is mailed), approved, the Seller Central
    user's invitation failing with Amazon's text (`detail`), then verified and active."""
    cid = create(api, person)["id"]
    started = api.post(f"/v1/connections/{cid}/start_authorization").json()
    consent(api, started["consent_url"], "AUTHORIZATION_DECLINED")
    started = api.post(f"/v1/connections/{cid}/start_authorization").json()
    assert consent(api, started["consent_url"]).status_code == 200
    for action, body in (
        ("invite_seller_central_user", None),
        ("fail_seller_central_authorization", {"detail": person["detail"]}),
        ("confirm_seller_central_user", {"permissions": dict(REQUIRED_SC_PERMISSIONS)}),
        ("activate", None),
    ):
        response = api.post(f"/v1/connections/{cid}/{action}", json=body)
        assert response.status_code == 200, response.text
    assert api.get(f"/v1/connections/{cid}").json()["state"] == "active"
    return cid


def dump(database_url: str) -> bytes:
    """Everything the store holds: the SQLite file with its write-ahead log, or
    PostgreSQL's `pg_dump` of the schema."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url[len("sqlite:///") :])
        files = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
        return read_files_elsewhere(files)
    base, _, schema = database_url.partition("?schema=")
    dumped = subprocess.run(
        ["pg_dump", "--schema", schema, "--dbname", base], capture_output=True, timeout=60
    )
    assert dumped.returncode == 0, dumped.stderr
    return dumped.stdout


def traces(value: str) -> list[bytes]:
    """The value as it could sit in a dump: as text, as PostgreSQL's hex of a bytea, and
    its unsalted SHA-256, SHA-1 and MD5 (hex), of the value and of its lower case."""
    found = [value.encode(), value.encode().hex().encode()]
    for variant in {value, value.lower()}:
        for name in ("sha256", "sha1", "md5"):
            found.append(hashlib.new(name, variant.encode()).hexdigest().encode())
    return found


def assert_forgotten(everything: bytes, values: list[str]) -> None:
    lowered = everything.lower()
    for value in values:
        for trace in traces(value):
            assert trace.lower() not in lowered, f"{value!r} is still in the store ({trace!r})"

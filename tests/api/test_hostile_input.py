"""Hostile text at the edge: NUL, lone surrogates, bidi overrides and megabyte strings in
every body field, query, path and callback parameter are 4xx problems, never a 500, and
nothing they carry reaches a store: afterwards every tenant's reads, the worker and a
rebuild still work, on both stores.

The fields come from the committed `openapi.yaml`, so an operation added later is driven
too (its body fields with a hostile value each, from a body built from its schema).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml

from service.api.edge.guard import MAX_JSON_DEPTH
from tests.conftest import LiveService, start_service

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "openapi.yaml").read_text())
HOSTILE = {
    "nul": "a\u0000b@shop.example",
    "lone surrogate": "a\ud800b",
    "bidi override": "abc\u202edcba",
    "escape": "a\u001b[31mb",
    "c1 control": "a\u0085b",
}
MEGABYTE = "x" * 1_000_000
VALID_BODIES: dict[str, dict[str, Any]] = {
    "createConnection": {
        "owner_email": "owner@shop.example",
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        "invited_by": {"name": "Ada", "email": "ada@agency.example", "role": "agency"},
        "metadata": {"shop": "one"},
    },
    "createWebhookEndpoint": {
        "url": "http://127.0.0.1:9/hooks",
        "event_types": ["*"],
        "description": "hooks",
    },
    "updateWebhookEndpoint": {"description": "hooks", "event_types": ["*"]},
    "replayWebhookEvents": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
    "confirmSellerCentralUser": {"permissions": {"inventory": "view"}},
    "failSellerCentralAuthorization": {"detail": "no"},
    "disconnect": {"reason": "done"},
}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in SCHEMA["paths"].items()
        for method, op in item.items()
        if path.startswith("/v1/")
    ]


def _schema_of(op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {})
    if not content:
        return None
    schema = next(iter(content.values()))["schema"]
    for choice in schema.get("oneOf", [schema]):
        if "$ref" in choice:
            return SCHEMA["components"]["schemas"][choice["$ref"].rsplit("/", 1)[-1]]
    return schema


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every string in `value`, and to every object key (as ('key', path))."""
    found: list[tuple] = []
    if isinstance(value, str):
        found.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            found.append((*path, ("key", key)))
            found += _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _leaves(item, (*path, i))
    return found


def _replaced(value: Any, path: tuple, hostile: str) -> Any:
    if not path:
        return hostile
    step, rest = path[0], path[1:]
    if isinstance(step, tuple):  # an object key
        return {(hostile if k == step[1] else k): v for k, v in value.items()}
    copy = value.copy()
    copy[step] = _replaced(value[step], rest, hostile)
    return copy


def bodies(operation_id: str, op: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where, body) with one hostile string each; a body this file does not know is
    built from its schema's string properties."""
    schema = _schema_of(op)
    if schema is None:
        return []
    base = VALID_BODIES.get(operation_id)
    if base is None:
        base = {
            name: "text"
            for name, prop in schema.get("properties", {}).items()
            if prop.get("type") == "string" or "string" in str(prop)
        }
    cases = [
        (str(leaf), _replaced(base, leaf, h)) for leaf in _leaves(base) for h in HOSTILE.values()
    ]
    if base:
        first = next(iter(base))
        cases.append((f"{first} (1 MB)", {**base, first: MEGABYTE}))
    return cases


def _url(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


def send(api: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    if "body" in kwargs:
        # ensure_ascii: a lone surrogate travels as its JSON escape, as an attacker sends it.
        kwargs["content"] = json.dumps(kwargs.pop("body"), ensure_ascii=True)
        kwargs["headers"] = {"Content-Type": "application/json"}
    return api.request(method, url, **kwargs)


def _encoded(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@pytest.fixture
def hostile_live(database_url: str):
    live = start_service(database_url, WEBHOOK_ALLOW_PRIVATE="1", RATE_LIMIT_PER_SECOND="0")
    yield live
    live.stop()


def _tenant_reads(live: LiveService, api: httpx.Client, expected: set[str]) -> None:
    listed = api.get("/v1/connections", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    assert expected <= {c["id"] for c in listed.json()["data"]}
    for connection_id in expected:
        for suffix in ("", "/events", "/guide", "/audit"):
            response = api.get(f"/v1/connections/{connection_id}{suffix}")
            assert response.status_code == 200, (suffix, response.text)
    events = api.get("/v1/events")
    assert events.status_code == 200, events.text
    for fmt in ("jsonl", "csv"):
        export = api.get("/v1/audit/export", params={"format": fmt})
        assert export.status_code == 200, export.text
        assert all(c in export.text for c in expected)


def test_an_owner_email_with_a_nul_is_refused_at_the_edge(live, api):
    """The reproduction: on PostgreSQL it was stored (201) and broke every tenant's reads."""
    other = live.client("tenant_b")
    theirs = other.post(
        "/v1/connections",
        json={
            "owner_email": "b@shop.example",
            "region": "eu",
            "marketplace_ids": ["A1PA6795UKMFR9"],
        },
    ).json()["id"]
    response = api.post(
        "/v1/connections",
        json={
            "owner_email": "a\u0000b@shop.example",
            "region": "na",
            "marketplace_ids": ["ATVPDKIKX0DER"],
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["errors"][0]["field"] == "owner_email"
    live.services.projection.catch_up()
    assert api.get("/v1/connections").json()["data"] == []
    _tenant_reads(live, other, {theirs})


def test_hostile_text_in_every_field_is_a_4xx_and_harms_no_tenant(hostile_live):
    live = hostile_live
    api, other = live.client("tenant_a"), live.client("tenant_b")
    mine = api.post("/v1/connections", json=VALID_BODIES["createConnection"]).json()["id"]
    theirs = other.post("/v1/connections", json=VALID_BODIES["createConnection"]).json()["id"]
    endpoint = api.post("/v1/webhook_endpoints", json=VALID_BODIES["createWebhookEndpoint"])
    ids = {"connection_id": mine, "endpoint_id": endpoint.json()["id"], "delivery_id": "whd_x"}
    statuses: dict[str, int] = {}
    for method, path, op in operations():
        url = _url(path, ids)
        for where, body in bodies(op.get("operationId", ""), op):
            statuses[f"{method} {path} body {where}"] = send(
                api, method, url, body=body
            ).status_code
        for param in op.get("parameters", []):
            name, place = param["name"], param["in"]
            for label, text in {**HOSTILE, "60 kB": MEGABYTE[:60_000]}.items():
                if place == "query":
                    target = f"{url}?{name}={_encoded(text)}"
                elif place == "path":
                    target = _url(path, {**ids, name: _encoded(text)})
                else:
                    continue
                statuses[f"{method} {path} {place} {name} {label}"] = api.request(
                    method, target
                ).status_code
    server_errors = {case: s for case, s in statuses.items() if s >= 500}
    assert not server_errors
    assert len(statuses) > 300
    # The hostile values were refused, not stored: nothing of them comes back anywhere.
    live.services.projection.catch_up()
    live.services.webhooks.outbox.catch_up()
    from service.workers.worker import Worker

    Worker(live.services).run_once()
    rebuilt = api.post("/v1/admin/projections/rebuild")
    assert rebuilt.status_code < 300, rebuilt.text
    _tenant_reads(live, api, {mine})
    _tenant_reads(live, other, {theirs})
    for client in (api, other):
        everything = client.get("/v1/audit/export").text + client.get("/v1/events").text
        assert "\\u0000" not in everything and "\\u202e" not in everything.lower()


def test_json_nested_past_the_limit_is_a_422_problem_quickly(api):
    deep = "[" * 30_000 + "]" * 30_000
    response = api.post(
        "/v1/connections", content=deep, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    just_too_deep = '{"metadata":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1)
    response = api.post(
        "/v1/connections", content=just_too_deep, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert "nested" in response.json()["detail"]


def test_a_cli_argument_with_a_control_character_is_refused_before_anything_runs(capsys):
    from service.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(["api-keys", "create", "--tenant", "shop\u001b[2J", "--scope", "admin"])
    assert exit_.value.code == 2
    assert "U+001B" in capsys.readouterr().err


CALENDAR_ENDS = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z"]


@pytest.mark.parametrize("at", CALENDAR_ENDS)
def test_instants_at_the_calendars_ends_are_422_wherever_instants_are_accepted(hostile_live, at):
    """They were OverflowErrors (500) when converted to UTC."""
    api = hostile_live.client()
    connection = api.post("/v1/connections", json=VALID_BODIES["createConnection"]).json()["id"]
    endpoint = api.post("/v1/webhook_endpoints", json=VALID_BODIES["createWebhookEndpoint"])
    endpoint_id = endpoint.json()["id"]
    requests = [
        ("GET", "/v1/connections", {"params": {"reauth_due_before": at}}),
        ("GET", f"/v1/connections/{connection}", {"params": {"as_of": at}}),
        ("GET", "/v1/audit/export", {"params": {"from": at}}),
        ("GET", "/v1/audit/export", {"params": {"to": at, "format": "csv"}}),
    ]
    if endpoint_id:
        for body in (
            {"from": at, "to": "2026-01-01T00:00:00Z"},
            {"from": "2026-01-01T00:00:00Z", "to": at},
        ):
            requests.append(("POST", f"/v1/webhook_endpoints/{endpoint_id}/replay", {"json": body}))
    for method, url, kwargs in requests:
        response = api.request(method, url, **kwargs)
        assert response.status_code == 422, (url, kwargs, response.text)
        assert "0001-01-02" in response.json()["detail"], response.text
    assert api.get(f"/v1/connections/{connection}").status_code == 200


def test_the_cli_refuses_instants_at_the_calendars_ends(sqlite_url, monkeypatch, capsys):
    from service.cli.main import main

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    assert main(["deadlines", "run", "--now", CALENDAR_ENDS[0]]) == 2
    assert main(["audit", "export", "--tenant", "t", "--to", CALENDAR_ENDS[1]]) == 2
    assert capsys.readouterr().err.count("0001-01-02") == 2

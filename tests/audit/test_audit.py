"""Audit on each store: tamper evidence from the raw bytes, exports, rebuilds, replays."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import psycopg
import pytest

from adapters.tables.read_model import ListQuery
from domain.connection import Connection, Context
from service.container import build
from tests.conftest import START, make_settings, run_cli


@pytest.fixture
def services(database_url):
    built = build(make_settings(database_url))
    yield built
    built.close()


def _walk(services, tenant="acme", email="owner@example.com", steps=4, seller="ASELLER1"):
    # One live connection per (tenant, seller): each walk in a tenant has its own seller.
    ctx = Context(actor="api_key:acme/key_1", at=START, request_id="req_1")
    c = Connection.invite(
        ctx,
        tenant_id=tenant,
        owner_email=email,
        region="na",
        marketplace_ids=["ATVPDKIKX0DER"],
        account_type="vendor",
    )
    for i in range(steps):
        at = START + timedelta(minutes=i + 1)
        c.start_authorization(Context(actor="owner", at=at), f"a{i}", at + timedelta(minutes=15))
        if i % 2:
            c.fail_authorization(
                Context(actor="owner", at=at + timedelta(seconds=30)), "NOT_PRIMARY_OWNER"
            )
    last = START + timedelta(hours=1)
    c.start_authorization(Context(actor="owner", at=last), "final", last + timedelta(minutes=15))
    c.complete_authorization(
        Context(actor="owner", at=last + timedelta(minutes=1)),
        selling_partner_id=seller,
        refresh_token_encrypted=services.box.encrypt("Atzr|secret-token"),
    )
    services.connections.save(c)
    return c


def _tamper(
    database_url: str,
    connection_id: str,
    version: int,
    old: str = "ATVPDKIKX0DER",
    new: str = "A2EUQ1WTGCTBG2",
) -> None:
    """Replaces `old` by `new` in one stored event's bytes, behind the service's back (by
    default its marketplace: personal values are stored sealed, see test_erasure)."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url[len("sqlite:///") :]) as db:
            for stored_id in (connection_id.replace("-", ""), connection_id):
                changed = db.execute(
                    "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), "
                    "?, ?) AS BLOB) WHERE originator_id = ? AND originator_version = ? "
                    "AND instr(CAST(state AS TEXT), ?) > 0",
                    (old, new, stored_id, version, old),
                ).rowcount
                if changed:  # ids may be stored in canonical form
                    break
            assert changed == 1
        return
    base, _, schema = database_url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as db:
        cur = db.execute(
            f'UPDATE "{schema}".connections_events SET state = convert_to(replace('
            "convert_from(state, 'UTF8'), %s, %s), 'UTF8') "
            "WHERE originator_id = %s AND originator_version = %s "
            "AND position(%s in convert_from(state, 'UTF8')) > 0",
            (old, new, connection_id, version, old),
        )
        assert cur.rowcount == 1


def test_an_untouched_history_verifies(services):
    c = _walk(services)
    report = services.audit.verify(str(c.id))
    assert report.ok and report.versions == c.version and report.head == c.chain_head


def test_changing_one_stored_event_is_named_by_connection_and_version(services, database_url):
    intact = _walk(services, email="other@example.com", seller="ASELLER2")
    c = _walk(services)
    _tamper(database_url, str(c.id), 1)
    report = services.audit.verify(str(c.id))
    assert not report.ok
    assert report.broken[0]["version"] == 1
    assert services.audit.verify(str(intact.id)).ok


def test_rewriting_who_acted_which_request_or_what_happened_later_is_named_with_why(
    services, database_url
):
    ctx = Context(actor="api_key:acme/key_1", at=START, request_id="req_v1")
    c = Connection.invite(
        ctx, tenant_id="acme", owner_email="o@example.com", region="na",
        marketplace_ids=["ATVPDKIKX0DER"], account_type="vendor",
    )  # fmt: skip
    for v in (2, 3, 4, 5):
        at = START + timedelta(minutes=v)
        step = Context(
            actor=f"actor-v{v}", at=at, request_id=f"req-v{v}", correlation_id=f"cor-v{v}"
        )
        c.start_authorization(step, f"attempt-v{v}", at + timedelta(minutes=15))
    services.connections.save(c)
    _tamper(database_url, str(c.id), 2, "actor-v2", "actor-XX")
    _tamper(database_url, str(c.id), 3, "req-v3", "req-XX")
    _tamper(database_url, str(c.id), 4, "cor-v4", "cor-XX")
    _tamper(database_url, str(c.id), 5, "attempt-v5", "attempt-XX")

    report = services.audit.verify(str(c.id))

    assert report.broken == [
        {"version": v, "reason": "content does not match its hash"} for v in (2, 3, 4, 5)
    ]


def test_cli_verify_exits_non_zero_naming_the_broken_connection(services, database_url):
    c = _walk(services)
    _tamper(database_url, str(c.id), 1)
    result = run_cli(database_url, "audit", "verify")
    assert result.returncode == 1, result.stderr
    assert f"BROKEN connection {c.id} at version 1" in result.stdout


def test_export_has_one_line_per_event_in_order_without_secrets(services):
    first = _walk(services)
    second = _walk(services, email="second@example.com", seller="ASELLER2")
    _walk(services, tenant="someone-else")
    lines = list(services.audit.export("acme", occurred_from=None, occurred_to=None, fmt="jsonl"))
    events = [json.loads(line) for line in lines]
    assert len(events) == first.version + second.version
    # Commit order: the opaque positions map back to ascending store positions.
    stored = [services.audit.positions.reveal("acme", e["position"]) for e in events]
    assert stored == sorted(stored)
    assert {e["connection_id"] for e in events} == {str(first.id), str(second.id)}
    text = "".join(lines)
    assert "Atzr|secret-token" not in text and "refresh_token" not in text
    csv_lines = list(services.audit.export("acme", occurred_from=None, occurred_to=None, fmt="csv"))
    assert len(csv_lines) == 1 + len(events)


def test_export_honours_the_time_range(services):
    c = _walk(services)
    lines = list(
        services.audit.export(
            "acme",
            occurred_from=(START + timedelta(minutes=1)).isoformat(),
            occurred_to=(START + timedelta(minutes=3)).isoformat(),
            fmt="jsonl",
        )
    )
    versions = [json.loads(line)["version"] for line in lines]
    assert versions and all(1 < v < c.version for v in versions)


def test_a_rebuilt_read_model_answers_every_filter_as_before(services):
    for i in range(5):
        _walk(services, email=f"owner{i}@example.com", steps=i % 3, seller=f"ASELLER{i + 1}")
    queries = [
        ListQuery(tenant_id="acme", limit=100),
        ListQuery(tenant_id="acme", state="api_authorized"),
        ListQuery(tenant_id="acme", region="na", limit=2),
        ListQuery(tenant_id="acme", owner_email="owner3@example.com"),
        ListQuery(tenant_id="acme", selling_partner_id="ASELLER1"),
    ]
    services.projection.catch_up()
    before = [services.view.list(q) for q in queries]
    feed_before = services.view.events("acme", limit=1000)
    services.projection.rebuild()
    assert [services.view.list(q) for q in queries] == before
    assert services.view.events("acme", limit=1000) == feed_before


def test_as_of_each_version_equals_the_state_current_then(services):
    c = _walk(services)
    caller = type("Caller", (), {"tenant_id": "acme"})()
    for e in services.app.events.get(c.id):
        then = services.connections.get(caller, str(c.id), as_of=e.timestamp)
        exact = services.app.load("acme", str(c.id), version=e.originator_version)
        assert then.__dict__ == exact.__dict__

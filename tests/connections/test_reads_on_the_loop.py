"""Reads on the event loop on PostgreSQL (psycopg's async pool, adapters.tables.async_reads):
the first page of a list, and a connection's latest version. They stay as fresh as the
blocking path: a commit anywhere, in this process or another, sends the next read through
the blocking path (which catches up) first."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from adapters.tables.read_model import ListQuery
from domain.exceptions import NotFound
from service.api.caller import Caller
from service.connections.presenters import Bodies
from service.container import build
from tests.conftest import make_settings

SPEC = {"owner_email": "o@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}
CALLER = Caller(tenant_id="tenant_a", actor="test")


def _ids(bodies):
    return [b["id"] for b in bodies]


@pytest.mark.postgres
def test_a_list_on_the_loop_sees_every_commit_made_before_it_in_any_process(pg_schema_url):
    here, there = build(make_settings(pg_schema_url)), build(make_settings(pg_schema_url))
    query = ListQuery(tenant_id="tenant_a", limit=21)
    loop = asyncio.new_event_loop()
    try:
        on_loop = here.connections.list_json_async
        first = here.connections.create(CALLER, **SPEC)
        # The read model has not been seen to cover that commit: the loop does not answer.
        assert loop.run_until_complete(on_loop(query)) is None
        assert _ids(here.connections.list_json(query)) == [str(first.id)]
        # Now it is covered: the same page, from the loop.
        assert _ids(loop.run_until_complete(on_loop(query))) == [str(first.id)]

        second = there.connections.create(CALLER, **SPEC)  # another process's commit
        assert loop.run_until_complete(on_loop(query)) is None
        assert _ids(here.connections.list_json(query)) == [str(second.id), str(first.id)]
        filtered = ListQuery(tenant_id="tenant_a", limit=21, state="invited", region="na")
        assert _ids(loop.run_until_complete(on_loop(filtered))) == [
            str(second.id),
            str(first.id),
        ]
        # Bodies this process has not rendered: read from the read model, on the loop too.
        here.connections.bodies = Bodies()
        on_loop_bodies = loop.run_until_complete(on_loop(filtered))
        assert on_loop_bodies == here.connections.list_json(filtered)
        assert [b["owner_email"] for b in on_loop_bodies] == [SPEC["owner_email"]] * 2
        other_tenant = ListQuery(tenant_id="tenant_b", limit=21)
        assert loop.run_until_complete(on_loop(other_tenant)) == []
    finally:
        loop.run_until_complete(here.connections.async_reads.close())
        loop.close()
        here.close()
        there.close()


@pytest.mark.postgres
def test_a_get_on_the_loop_answers_the_latest_version_and_only_to_its_tenant(pg_schema_url):
    here, there = build(make_settings(pg_schema_url)), build(make_settings(pg_schema_url))
    loop = asyncio.new_event_loop()
    try:
        on_loop = here.connections.get_json_async
        created = here.connections.create(CALLER, **SPEC)
        cid = str(created.id)
        # Not in the aggregate cache yet (a blocking save does not put it there): read
        # from the store on the loop, then cached and rendered for the next read.
        assert loop.run_until_complete(on_loop(CALLER, cid))["version"] == 1
        assert here.app.cached_version("tenant_a", cid) == 1
        assert loop.run_until_complete(on_loop(CALLER, cid)) is here.connections.bodies.get(cid, 1)
        stranger = Caller(tenant_id="tenant_b", actor="test")
        for who, which in ((stranger, cid), (CALLER, "not-a-uuid")):
            with pytest.raises(NotFound):
                loop.run_until_complete(on_loop(who, which))

        # Another process moves it: the loop's answer is the new version, not its cache's.
        there.connections.act(CALLER, cid, "resend_invitation", {})
        moved = loop.run_until_complete(on_loop(CALLER, cid))
        assert moved["version"] == 2
        assert moved == here.connections.json(here.connections.get(CALLER, cid))
    finally:
        loop.run_until_complete(here.connections.async_reads.close())
        loop.close()
        here.close()
        there.close()


def test_on_sqlite_every_read_takes_the_blocking_path(sqlite_url):
    services = build(make_settings(sqlite_url))
    try:
        assert services.connections.async_reads is None
        services.connections.create(CALLER, **SPEC)
        query = ListQuery(tenant_id="tenant_a", limit=21)
        assert asyncio.run(services.connections.list_json_async(query)) is None
        assert len(services.connections.list_json(query)) == 1
        [body] = services.connections.list_json(query)
        assert asyncio.run(services.connections.get_json_async(CALLER, body["id"])) is None
    finally:
        services.close()


@pytest.mark.postgres
def test_a_command_on_the_loop_acts_on_the_latest_version_whichever_process_wrote_it(
    pg_schema_url,
):
    """An action without an Idempotency-Key is loaded on the loop: from this process's
    cache when the store has nothing newer, else (moved on since, or never seen here)
    from the store, its snapshot and the events after; the same connection the blocking
    load gives, and only to its tenant."""
    here, there = build(make_settings(pg_schema_url)), build(make_settings(pg_schema_url))
    loop = asyncio.new_event_loop()

    def act(services, caller, cid):
        return loop.run_until_complete(
            services.connections.act_async(caller, cid, "resend_invitation", {})
        )

    try:
        created = here.connections.create(CALLER, **SPEC)
        cid = str(created.id)
        here.app.remember(created)
        assert here.app.cached_version("tenant_a", cid) == 1
        # Never loaded over there: read from the store on the loop.
        assert act(there, CALLER, cid).connection.version == 2
        # Cached here at version 1, and (as a thread bringing it up to version 2 may
        # leave it while the loop copies it) half changed; the store has 2, so the copy
        # is not used: read from the store, then acted on.
        created.owner_email = "half@changed.example"
        acted = act(here, CALLER, cid).connection
        assert (acted.version, acted.owner_email) == (3, SPEC["owner_email"])
        for services in (here, there):
            with pytest.raises(NotFound):
                act(services, Caller(tenant_id="tenant_b", actor="test"), cid)
            with pytest.raises(NotFound):
                act(services, CALLER, "not-a-uuid")
            with pytest.raises(NotFound):
                act(services, CALLER, "00000000-0000-4000-8000-000000000000")

        # From a snapshot and the events after it, in a process that never saw it.
        here.app.take_snapshot(UUID(cid))
        here.connections.act(CALLER, cid, "resend_invitation", {})
        fresh = build(make_settings(pg_schema_url))
        try:
            loaded = loop.run_until_complete(
                fresh.app.load_async("tenant_a", cid, fresh.connections.async_reads)
            )
            assert loaded.version == 4
            assert loaded.__dict__ == here.app.load("tenant_a", cid).__dict__
        finally:
            loop.run_until_complete(fresh.connections.async_reads.close())
            fresh.close()
    finally:
        for services in (here, there):
            loop.run_until_complete(services.connections.async_reads.close())
            services.close()
        loop.close()

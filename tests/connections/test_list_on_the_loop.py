"""The first page of a list is read on the event loop on PostgreSQL (psycopg's async pool,
adapters.tables.async_reads), and stays as fresh as the blocking path: a commit anywhere,
in this process or another, sends the next list through the catch-up first."""

from __future__ import annotations

import asyncio

import pytest

from adapters.tables.read_model import ListQuery
from service.api.caller import Caller
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
        other_tenant = ListQuery(tenant_id="tenant_b", limit=21)
        assert loop.run_until_complete(on_loop(other_tenant)) == []
    finally:
        loop.run_until_complete(here.connections.async_reads.close())
        loop.close()
        here.close()
        there.close()


def test_on_sqlite_every_list_takes_the_blocking_path(sqlite_url):
    services = build(make_settings(sqlite_url))
    try:
        assert services.connections.async_reads is None
        services.connections.create(CALLER, **SPEC)
        query = ListQuery(tenant_id="tenant_a", limit=21)
        assert asyncio.run(services.connections.list_json_async(query)) is None
        assert len(services.connections.list_json(query)) == 1
    finally:
        services.close()

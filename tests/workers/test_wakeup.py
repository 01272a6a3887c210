"""The worker wakes on new work instead of waiting for its next poll.

Each worker here polls only once a minute, so a delivery arriving within seconds shows it
was woken: by PostgreSQL NOTIFY for a commit made by another process's parts, by its own
process's commit on SQLite, by a redelivery queued through the API. When the LISTEN
connection is cut, the worker polls until the listener is back.
"""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from service.api.caller import Caller
from service.container import build
from service.workers.worker import Worker
from tests.conftest import make_settings, new_connection

pytest_plugins = ["tests.webhooks.fixtures"]  # hooked_postgres, hooked_sqlite, receiver

POLL = 60.0  # far longer than any wait below
SOON = 10.0  # a generous bound for "at once" on a loaded machine, still far below POLL


def _endpoint(services, receiver) -> None:
    services.webhooks.endpoints.create("tenant_a", url=receiver.url, event_types=["*"])


def _arrived(receiver, count: int, within: float = SOON) -> bool:
    deadline = time.monotonic() + within
    while len(receiver.requests) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def other_process(hooked_postgres, receiver):
    """A worker with its own set of the service's parts on the same database, as another
    process has (its own pools, its own in-process waker, so only NOTIFY reaches it),
    started, listening, and asleep; the tenant has an endpoint at `receiver`."""
    _endpoint(hooked_postgres.services, receiver)
    services = build(
        make_settings(hooked_postgres.services.settings.database_url, WEBHOOK_ALLOW_PRIVATE="1"),
        clock=hooked_postgres.clock,
    )
    worker = Worker(services, interval=POLL)
    worker.listener.retry = 0.1
    worker.start_thread()
    assert worker.listener.listening.wait(SOON)
    time.sleep(0.2)  # the first pass (on start) is over; the worker now sleeps
    yield worker
    worker.stop()
    services.close()


@pytest.mark.postgres
def test_a_commit_in_another_process_wakes_the_worker_through_notify(
    hooked_postgres, other_process, receiver
):
    with hooked_postgres.client() as api:
        new_connection(api)

    assert _arrived(receiver, 1), "the worker waited for its poll instead of the NOTIFY"
    assert receiver.requests[0].json["type"] == "connection.invited"


@pytest.mark.postgres
def test_a_redelivery_queued_by_another_process_wakes_the_worker(
    hooked_postgres, other_process, receiver
):
    with hooked_postgres.client() as api:
        new_connection(api)
        assert _arrived(receiver, 1)
        time.sleep(0.2)  # the worker is asleep again
        tables = hooked_postgres.services.webhooks.tables
        [endpoint] = tables.endpoints("tenant_a", 1, None)
        [delivery] = tables.deliveries(endpoint.id, 10, None, None)

        api.post(f"/v1/webhook_deliveries/{delivery.id}/redeliver").raise_for_status()

    assert _arrived(receiver, 2), "the redelivery waited for the poll instead of a NOTIFY"
    assert receiver.ids()[0] == receiver.ids()[1]


@pytest.mark.postgres
def test_after_the_listen_connection_is_cut_the_worker_listens_again(
    hooked_postgres, other_process, receiver
):
    worker = other_process
    url = hooked_postgres.services.settings.database_url.split("?")[0]
    with psycopg.connect(url, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [f"listen {worker.listener.channel}"[:63]],
        ).fetchall()
    assert cut, "no LISTEN connection was found to cut"
    deadline = time.monotonic() + SOON
    while worker.listener.listening.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)  # the listener notices the cut
    assert worker.listener.listening.wait(SOON)
    time.sleep(0.2)

    with hooked_postgres.client() as api:
        new_connection(api)

    assert _arrived(receiver, 1)


def test_on_sqlite_a_commit_in_the_same_process_wakes_its_worker(hooked_sqlite, receiver):
    services = hooked_sqlite.services
    _endpoint(services, receiver)
    worker = Worker(services, interval=POLL)
    worker.start_thread()
    try:
        time.sleep(0.2)
        with hooked_sqlite.client() as api:
            new_connection(api)
        assert _arrived(receiver, 1)

        # A redelivery asked for through the API wakes it too.
        [endpoint] = services.webhooks.tables.endpoints("tenant_a", 1, None)
        [delivery] = services.webhooks.tables.deliveries(endpoint.id, 10, None, None)
        with hooked_sqlite.client(scopes=["webhooks:manage"]) as api:
            api.post(f"/v1/webhook_deliveries/{delivery.id}/redeliver").raise_for_status()
        assert _arrived(receiver, 2)
        assert (
            receiver.requests[1].headers["webhook-id"] == receiver.requests[0].headers["webhook-id"]
        )
    finally:
        worker.stop()


def test_one_worker_follows_the_log_at_a_time_and_another_takes_over_when_it_goes(
    pg_schema_url,
):
    """Two workers on one database (two processes' parts): one holds the followers' lock
    and projects; the other stands by, and projects once the first one's connection is
    gone, so the read model never stops following."""
    parts = [build(make_settings(pg_schema_url)) for _ in range(2)]
    workers = [Worker(services, interval=POLL) for services in parts]
    try:
        for worker in workers:
            worker.listener.retry = 0.1
            worker.listener.start()
            assert worker.listener.listening.wait(SOON)
        deadline = time.monotonic() + SOON
        while not any(w.listener.leading.is_set() for w in workers):
            assert time.monotonic() < deadline, "no worker took the lead"
            time.sleep(0.01)
        time.sleep(1.0)  # the standby has tried (every 0.5 s) and must not lead too
        [leader] = [w for w in workers if w.listener.leading.is_set()]
        [standby] = [w for w in workers if w is not leader]
        assert leader.follows() and not standby.follows()

        view = parts[0].view
        api = parts[0].connections
        caller = Caller(tenant_id="tenant_a", actor="test")
        spec = {
            "owner_email": "o@example.com",
            "region": "na",
            "marketplace_ids": ["ATVPDKIKX0DER"],
        }
        first = api.create(caller, **spec)
        standby.run_once(timed=False)
        assert view.get("tenant_a", str(first.id)) is None  # the standby did not project it
        leader.run_once(timed=False)
        assert view.get("tenant_a", str(first.id)) is not None

        leader.listener.stop()  # its connection closes: the lock is released
        deadline = time.monotonic() + SOON
        while not standby.listener.leading.is_set():
            assert time.monotonic() < deadline, "the standby did not take over"
            time.sleep(0.01)
        second = api.create(caller, **spec)
        standby.run_once(timed=False)
        assert view.get("tenant_a", str(second.id)) is not None
    finally:
        for worker in workers:
            worker.listener.stop()
        for services in parts:
            services.close()


def _until(condition, within: float = SOON) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.postgres
def test_a_process_listens_on_one_connection_for_the_worker_api_keys_and_token_memory(
    pg_schema_url,
):
    """Four channels' worth of listeners (the worker's, the API keys', the token memory's
    two) share the process's one LISTEN connection and its one reconnect policy."""
    services = build(make_settings(pg_schema_url))
    worker = Worker(services, interval=POLL)
    url = pg_schema_url.split("?")[0]
    # Named for this test alone: the name the service gives (`listen <channel>`) is the
    # same in every schema, and tests running beside this one listen too.
    name = f"listen {uuid.uuid4().hex}"
    services.listener.connect_kwargs["application_name"] = name
    count = "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s"
    try:
        services.listener.retry = 0.1
        worker.start_thread()
        services.api_keys.watch()
        services.credentials.watch()
        subscriptions = [services.api_keys.listener, *services.credentials.tokens.memory.listeners]
        assert _until(lambda: all(s.listening.is_set() for s in subscriptions))
        with psycopg.connect(url, autocommit=True) as admin:
            assert admin.execute(count, [name]).fetchone()[0] == 1
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND backend_start > now() - interval '1 minute'",
                [name],
            )
            # All of them lose it together, and hear again together once it is back.
            assert _until(lambda: not any(s.listening.is_set() for s in subscriptions))
            assert _until(lambda: all(s.listening.is_set() for s in subscriptions))
            assert admin.execute(count, [name]).fetchone()[0] <= 1
    finally:
        worker.stop()
        services.close()


@pytest.mark.postgres
def test_the_token_memory_keeps_its_entries_through_commits_on_other_connections(
    pg_schema_url,
):
    """The event store's NOTIFY names the connections a commit recorded events for, so the
    token memory drops only theirs: a write to another connection (from this process or
    another) leaves an entry usable without asking the store; a write to its own
    connection, or a wake-up that names none, does not."""
    here, there = build(make_settings(pg_schema_url)), build(make_settings(pg_schema_url))
    caller = Caller(tenant_id="tenant_a", actor="test")
    spec = {"owner_email": "o@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}
    memory = here.credentials.tokens.memory
    try:
        here.listener.retry = 0.1
        here.credentials.watch()
        assert _until(lambda: all(s.listening.is_set() for s in memory.listeners))
        mine = here.connections.create(caller, **spec)
        time.sleep(1.0)  # PostgreSQL's echo of this commit has arrived (it drops `mine`)

        def kept() -> bool:
            memory.keep(memory.mark(), mine, "sp-api", object())
            return memory.recall("tenant_a", str(mine.id), "sp-api") is not None

        assert kept()
        here.connections.create(caller, **spec)  # this process's commit, another connection
        there.connections.create(caller, **spec)  # another process's commit
        time.sleep(1.0)  # its NOTIFY has arrived
        assert memory.recall("tenant_a", str(mine.id), "sp-api") is not None

        there.connections.act(caller, str(mine.id), "resend_invitation", {})
        assert _until(lambda: memory.recall("tenant_a", str(mine.id), "sp-api") is None)

        assert kept()
        with psycopg.connect(pg_schema_url.split("?")[0], autocommit=True) as admin:
            admin.execute("SELECT pg_notify(%s, '')", [here.listener.channel])
        assert _until(lambda: memory.recall("tenant_a", str(mine.id), "sp-api") is None)
    finally:
        here.close()
        there.close()

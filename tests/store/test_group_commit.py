"""Group commit (service.connections.group_commit), on SQLite and PostgreSQL: commands saved by many
threads at once are written together, and a lost race in one of them refuses that one
only, with its own 409, while every other command of the batch is stored."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from domain.exceptions import NotFound, VersionConflict
from service.api.caller import Caller
from service.container import Services, build
from service.metrics import GROUP_COMMIT_SIZE
from tests.conftest import make_settings

SPEC = {"owner_email": "owner@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}
TENANT = "tenant_group"


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build(make_settings(database_url))
    yield built
    built.close()


def caller(request_id: str) -> Caller:
    return Caller(tenant_id=TENANT, actor="test", request_id=request_id)


class HeldFirstWrite:
    """Holds the first transaction open until `release`, so that every command saved
    meanwhile queues behind it and the next transaction carries them all."""

    def __init__(self, app) -> None:
        self.app = app
        self.original = app._record
        self.entered = threading.Event()
        self.go = threading.Event()
        self.sizes: list[int] = []
        app._record = self._record

    def _record(self, processing):
        self.sizes.append(len(processing.aggregates))
        if len(self.sizes) == 1:
            self.entered.set()
            assert self.go.wait(30)
        return self.original(processing)

    def release(self) -> None:
        self.go.set()


def test_commands_queued_behind_a_write_commit_together_and_only_the_loser_is_refused(
    services: Services,
):
    connections = services.connections
    contested = [connections.create(caller(f"seed-{i}"), **SPEC).id for i in range(5)]
    # Two requests per contested connection, both working from version 1.
    loaded = [
        (str(cid), side, services.app.load(TENANT, str(cid)))
        for cid in contested
        for side in ("a", "b")
    ]
    held = HeldFirstWrite(services.app)
    batches_before = GROUP_COMMIT_SIZE._sum.get()

    def blocker() -> str:
        return str(connections.create(caller("blocker"), **SPEC).id)

    def create(i: int) -> str:
        return str(connections.create(caller(f"create-{i}"), **SPEC).id)

    def contend(item) -> tuple[str, str, str]:
        cid, side, connection = item
        connection.resend_invitation(
            connections.context(caller(f"resend-{cid}-{side}")), services.settings.durations
        )
        try:
            services.app.store(connection)
        except VersionConflict:
            return cid, side, "409"
        return cid, side, "stored"

    with ThreadPoolExecutor(max_workers=40) as pool:
        first = pool.submit(blocker)
        assert held.entered.wait(30)
        created = [pool.submit(create, i) for i in range(20)]
        contended = [pool.submit(contend, item) for item in loaded]
        # Everyone is queued behind the held write (nobody can have written meanwhile).
        while len(services.app.group_commit._queue) < len(created) + len(contended):
            threading.Event().wait(0.005)
        held.release()
        acknowledged = [first.result(), *(f.result() for f in created)]
        outcomes = [f.result() for f in contended]

    # The queued commands went in one transaction (which failed on the contested
    # versions), then each alone.
    assert held.sizes[1] == len(created) + len(contended) - len(contested)
    assert GROUP_COMMIT_SIZE._sum.get() > batches_before
    for cid in acknowledged:
        assert services.app.load(TENANT, cid).version == 1
    by_connection: dict[str, list[tuple[str, str]]] = {}
    for cid, side, outcome in outcomes:
        by_connection.setdefault(cid, []).append((side, outcome))
    for cid, sides in by_connection.items():
        assert sorted(o for _, o in sides) == ["409", "stored"], sides
        winner = next(side for side, o in sides if o == "stored")
        history = services.connections.history(caller("read"), cid)
        assert [e.originator_version for e in history] == [1, 2]
        # The stored resend is the winner's own request; the loser's left no trace.
        assert (history[1].meta or {}).get("request_id") == f"resend-{cid}-{winner}"


def test_a_batch_the_store_refuses_fails_every_command_in_it_and_stores_none(
    services: Services,
):
    held = HeldFirstWrite(services.app)
    original = held.original

    def failing(processing):
        held.sizes.append(len(processing.aggregates))
        if len(held.sizes) == 1:
            held.entered.set()
            assert held.go.wait(30)
            return original(processing)
        raise OSError("the disk is full")

    services.app._record = failing
    with ThreadPoolExecutor(max_workers=10) as pool:
        first = pool.submit(services.connections.create, caller("first"), **SPEC)
        assert held.entered.wait(30)
        queued = [
            pool.submit(services.connections.create, caller(f"q-{i}"), **SPEC) for i in range(6)
        ]
        while len(services.app.group_commit._queue) < len(queued):
            threading.Event().wait(0.005)
        held.release()
        assert first.result().version == 1
        for future in queued:
            with pytest.raises(OSError):
                future.result()
    services.app._record = original
    assert held.sizes[1] == len(queued)
    # The log holds the first command only: nothing of the refused batch was written.
    written = [n.originator_id for n in services.app.recorder.select_notifications(1, 100)]
    assert written == [first.result().id]


def test_commands_made_on_the_event_loop_join_one_batch_and_only_the_loser_is_refused(
    services: Services,
):
    """The loop's group commit (LoopBatcher): creates and contested actions awaited
    together on one event loop, no thread each, queue behind a thread's held write and
    are written in one transaction with it done; each contested connection keeps one
    winner, the loser gets its 409, every create is stored, and a connection saved on
    the loop is then served from this process's cache at its stored version."""
    import asyncio

    connections = services.connections
    contested = [connections.create(caller(f"seed-{i}"), **SPEC).id for i in range(4)]
    loaded = [
        (str(cid), side, services.app.load(TENANT, str(cid)))
        for cid in contested
        for side in ("a", "b")
    ]
    held = HeldFirstWrite(services.app)
    creates = 12

    async def contend(item) -> tuple[str, str, str]:
        cid, side, connection = item
        connection.resend_invitation(
            connections.context(caller(f"resend-{cid}-{side}")), services.settings.durations
        )
        try:
            await services.app.store_async(connection)
        except VersionConflict:
            return cid, side, "409"
        return cid, side, "stored"

    async def on_the_loop():
        return await asyncio.gather(
            *(connections.create_async(caller(f"loop-{i}"), **SPEC) for i in range(creates)),
            *(contend(item) for item in loaded),
        )

    def release_when_queued() -> None:
        while len(services.app.group_commit._queue) < creates + len(loaded):
            threading.Event().wait(0.005)
        held.release()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(connections.create, caller("blocker"), **SPEC)
        assert held.entered.wait(30)
        releaser = pool.submit(release_when_queued)
        results = asyncio.run(on_the_loop())
        releaser.result()
        assert first.result().version == 1

    created, outcomes = results[:creates], results[creates:]
    # One transaction for everything queued on the loop (refused for the contested
    # versions), then each command alone (counted in aggregates: a contested pair is one).
    assert held.sizes[1] == creates + len(loaded) - len(contested)
    for connection in created:
        assert services.app.load(TENANT, str(connection.id)).version == 1
    by_connection: dict[str, list[tuple[str, str]]] = {}
    for cid, side, outcome in outcomes:
        by_connection.setdefault(cid, []).append((side, outcome))
    for cid, sides in by_connection.items():
        assert sorted(o for _, o in sides) == ["409", "stored"], sides
        winner = next(side for side, o in sides if o == "stored")
        history = connections.history(caller("read"), cid)
        assert [e.originator_version for e in history] == [1, 2]
        assert (history[1].meta or {}).get("request_id") == f"resend-{cid}-{winner}"

    # Remembered after the save: a loop command on it needs no blocking load, and sees
    # the stored version (PostgreSQL: the asynchronous reads ask the store).
    remembered = created[0]
    services.app.remember(remembered)
    assert services.app.cached_version(TENANT, str(remembered.id)) == 1
    if connections.async_reads is not None:

        async def act():
            return await connections.act_async(
                caller("act"), str(remembered.id), "resend_invitation", {}
            )

        acted = asyncio.run(act())
        assert acted is not None and acted.connection.version == 2
        assert services.app.load(TENANT, str(remembered.id)).version == 2
        # Another tenant's: as absent as a missing one, cached or not.
        other = Caller(tenant_id="tenant_other", actor="test", request_id="x")

        async def foreign():
            return await connections.act_async(other, str(remembered.id), "resend_invitation", {})

        with pytest.raises(NotFound):
            asyncio.run(foreign())

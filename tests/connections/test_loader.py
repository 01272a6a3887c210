"""The one loader (service.connections.application): a connection is read only through
`ConnectionsApp.load` (for a tenant) or `load_without_tenant_check` (the service's own
paths), and another tenant's connection is as absent as a missing one."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from domain.connection import Connection, Context
from domain.exceptions import NotFound
from service.connections import library_seam
from service.connections.application import ConnectionsApp

SERVICE = Path(__file__).resolve().parents[2] / "service"
LOADER = SERVICE / "connections" / "application.py"
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def app() -> Iterator[ConnectionsApp]:
    app = ConnectionsApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


def saved(app: ConnectionsApp, tenant_id: str) -> Connection:
    c = Connection.invite(
        Context(actor="user_1", at=AT, request_id="req_1"),
        tenant_id=tenant_id,
        owner_email="owner@example.com",
        region="na",
        marketplace_ids=["ATVPDKIKX0DER"],
    )
    app.store(c)
    return c


def with_a_cached_connection() -> tuple[ConnectionsApp, Connection, Connection]:
    """An application with an aggregate cache, a connection it saved, and the cache's own
    object for it (which the library fast-forwards in place)."""
    app = ConnectionsApp(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo", "AGGREGATE_CACHE_MAXSIZE": "10"}
    )
    c = saved(app, "tenant_a")
    app.remember(c)
    return app, c, app.repository.cache.get(c.id)


def test_no_module_but_the_loader_reads_the_repository():
    bypasses = [
        f"{path.relative_to(SERVICE.parent)}:{number}"
        for path in sorted(SERVICE.rglob("*.py"))
        if path != LOADER
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\brepository\s*\.\s*get\s*\(", line)
    ]
    assert bypasses == [], "load connections through ConnectionsApp.load (or the named bypass)"


def test_no_module_but_the_loader_catches_the_librarys_not_found():
    catching = [
        str(path.relative_to(SERVICE.parent))
        for path in sorted(SERVICE.rglob("*.py"))
        if path != LOADER and "AggregateNotFoundError" in path.read_text()
    ]
    assert catching == []


def test_a_tenant_loads_its_own_connection(app):
    c = saved(app, "tenant_a")
    assert app.load("tenant_a", str(c.id)).id == c.id
    assert app.load("tenant_a", c.id, version=1).version == 1


def test_another_tenants_connection_answers_not_found_as_a_missing_one_does(app):
    c = saved(app, "tenant_a")
    with pytest.raises(NotFound) as foreign:
        app.load("tenant_b", str(c.id))
    missing_id = str(uuid4())
    with pytest.raises(NotFound) as missing:
        app.load("tenant_b", missing_id)
    assert str(foreign.value) == f"No connection {str(c.id)!r}."
    assert str(missing.value) == f"No connection {missing_id!r}."


def test_an_id_that_is_no_uuid_answers_not_found(app):
    with pytest.raises(NotFound):
        app.load("tenant_a", "not-a-uuid")
    with pytest.raises(NotFound):
        app.load_without_tenant_check("not-a-uuid")


def test_the_services_own_paths_load_any_tenants_connection_by_the_named_bypass(app):
    a, b = saved(app, "tenant_a"), saved(app, "tenant_b")
    assert app.load_without_tenant_check(a.id).tenant_id == "tenant_a"
    assert app.load_without_tenant_check(str(b.id), 1).tenant_id == "tenant_b"


def test_a_missing_connection_is_the_domains_not_found_without_the_librarys_cause(app):
    with pytest.raises(NotFound) as raised:
        app.load_without_tenant_check(uuid4())
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_a_version_from_the_cache_is_never_one_half_brought_up_to_the_next():
    # The outboxes load a connection at a version (LatestStates) from this process's
    # aggregate cache, which the library fast-forwards in place under its lock, setting
    # the version last. Here the "fast-forward" has changed a field but not the version
    # yet: the load waits for it, then reads version 1 from the store instead.
    app, c, cached = with_a_cached_connection()
    found: list[Connection] = []
    with library_seam.fastforward_lock(app, c.id):
        cached.owner_email = "half@changed.example"
        loading = threading.Thread(
            target=lambda: found.append(app.load_without_tenant_check(c.id, version=1))
        )
        loading.start()
        loading.join(timeout=0.3)
        assert found == []  # waiting for the fast-forward
        cached._version = 2  # done (its event is not stored: only the copy matters here)
    loading.join(timeout=5)
    assert [(f.version, f.owner_email) for f in found] == [(1, "owner@example.com")]
    app.close()


def test_a_latest_load_never_copies_a_connection_half_brought_up_to_the_next(monkeypatch):
    # The library copies a cached aggregate after letting go of its fast-forward lock.
    # Here another thread starts fast-forwarding the cached connection in that moment:
    # the load's copy waits for it and is of one version, never a mix of two.
    app, c, cached = with_a_cached_connection()
    found: list[Connection] = []
    loader = threading.Thread(target=lambda: found.append(app.load_without_tenant_check(c.id)))
    changing = threading.Event()

    def fast_forward_elsewhere() -> None:
        with library_seam.fastforward_lock(app, c.id):
            cached.owner_email = "half@changed.example"
            changing.set()
            loader.join(timeout=0.3)  # a load that does not wait has copied by now
            cached._version = 2  # done (its event is not stored: only the copy matters)

    elsewhere = threading.Thread(target=fast_forward_elsewhere)
    release = app.repository._disuse_fastforward_lock

    def released(aggregate_id):
        release(aggregate_id)
        if threading.current_thread() is loader and not changing.is_set():
            elsewhere.start()  # right after the load's own fast-forward
            changing.wait(timeout=5)

    monkeypatch.setattr(app.repository, "_disuse_fastforward_lock", released)
    loader.start()
    loader.join(timeout=5)
    elsewhere.join(timeout=5)
    assert [(f.version, f.owner_email) for f in found] == [(2, "half@changed.example")]
    app.close()


def test_the_loader_builds_a_connection_as_the_librarys_own_projection_does():
    # The loader's projection (and the snapshots') skips the library's per-event Protocol
    # check and nothing else: from a snapshot and the 49 events after it, at a past
    # version and at the latest, it builds what the library's `project_aggregate` builds.
    app = ConnectionsApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    c = saved(app, "tenant_a")
    for n in range(98):
        c.resend_invitation(Context(actor="user_1", at=AT, request_id=f"req_{n}"))
        app.store(c)
    assert [s.originator_version for s in app.snapshots.get(c.id)] == [50]
    for version in (None, 30, 99):
        loaded = app.load_without_tenant_check(c.id, version=version)
        library = app.repository.get(c.id, version=version)  # project_aggregate
        assert loaded.version == (version or 99)
        assert vars(loaded) == vars(library)
    app.close()

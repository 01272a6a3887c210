"""The data keys: a SECRET_KEY rotation keeps every connection readable (PREVIOUS_SECRET_KEYS,
then `rewrap`), no key sits unwrapped in the store, sealed values moved to another
connection are named by verification, and events in the first release's format (a token
per value) still open, verify and erase, on both stores."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from adapters.crypto import open_value, seal_value
from domain.chain import ENVELOPE
from domain.personal import ERASED, with_path
from service.api.caller import Caller
from service.container import build
from tests.conftest import make_settings
from tests.erasure.forgotten import dump, personal

OLD, NEW = (
    "old-secret-key-0123456789abcdef-0123456789",
    "new-secret-key-0123456789abcdef-9876543210",
)
CALLER = Caller(tenant_id="tenant_a", actor="test")


def create(services, tag: str) -> str:
    who = personal(tag)
    spec = {k: v for k, v in who.items() if k != "detail"}
    connection = services.connections.create(
        CALLER, region="na", marketplace_ids=["ATVPDKIKX0DER"], **spec
    )
    return str(connection.id)


def test_rotating_secret_key_keeps_every_connection_readable(database_url):
    services = build(make_settings(database_url, SECRET_KEY=OLD))
    cid = create(services, "2201")
    services.close()
    assert personal("2201")["owner_email"].encode() not in dump(database_url)

    rotating = build(make_settings(database_url, SECRET_KEY=NEW, PREVIOUS_SECRET_KEYS=OLD))
    assert rotating.app.load("tenant_a", cid).owner_email == personal("2201")["owner_email"]
    assert rotating.app.mapper.keys.rewrap() >= 1
    rotating.close()

    rotated = build(make_settings(database_url, SECRET_KEY=NEW))
    connection = rotated.app.load("tenant_a", cid)
    assert connection.metadata == personal("2201")["metadata"]
    assert rotated.audit.verify(cid).personal_values_checked == 5  # the invitation's
    rotated.close()

    # The old secret alone opens nothing any more, and says why instead of erasing.
    stale = build(make_settings(database_url, SECRET_KEY=OLD))
    with pytest.raises(RuntimeError, match="PREVIOUS_SECRET_KEYS"):
        list(stale.app.events.get(connection.id))
    stale.close()


def test_sealed_values_moved_to_another_connection_do_not_open(database_url):
    services = build(make_settings(database_url))
    try:
        mine, theirs = create(services, "2301"), create(services, "2302")
        store = services.app.recorder
        (theirs_first,) = store.select_events(connection_id(theirs), lte=1)
        (mine_first,) = store.select_events(connection_id(mine), lte=1)
        mapper = services.app.mapper
        # Opened once already (the mapper remembers what it opened lately): moved, it
        # still must not open.
        opened = mapper.to_domain_event(theirs_first)
        assert opened.owner_email == personal("2302")["owner_email"]
        moved = mapper.decoded(mine_first)
        moved["meta"][ENVELOPE] = mapper.decoded(theirs_first)["meta"][ENVELOPE]
        services.erasure.stored.replace_state(connection_id(mine), 1, mapper.encoded(moved))
        report = services.audit.verify(mine)
        assert report.broken == [{"version": 1, "reason": "a sealed value does not open"}]
        (moved_first,) = store.select_events(connection_id(mine), lte=1)
        with pytest.raises(ValueError, match="does not open"):
            mapper.to_domain_event(moved_first)
        assert services.audit.verify(theirs).ok
    finally:
        services.close()


def test_an_event_sealed_a_token_per_value_by_the_first_release_opens_verifies_and_is_erased(
    database_url,
):
    """The first release of erasure sealed each value alone, in its place, bound to its
    path; a store it wrote is read, verified and erased as it was written."""
    services = build(make_settings(database_url))
    try:
        cid = create(services, "2401")
        mapper = services.app.mapper
        (first,) = services.app.recorder.select_events(connection_id(cid), lte=1)
        fields = mapper.decoded(first)
        envelope = fields["meta"].pop(ENVELOPE)
        key = mapper.keys.for_reading(envelope["k"])
        salted = json.loads(open_value(key, f"{cid}@1", envelope["pv"]))
        for (path, _), (salt, value) in zip(fields["meta"]["pii"], salted, strict=True):
            token = seal_value(key, f"{cid}/{'/'.join(path)}", json.dumps([salt, value]))
            fields = with_path(fields, tuple(path), {"pv": token, "k": envelope["k"]})
        services.erasure.stored.replace_state(connection_id(cid), 1, mapper.encoded(fields))
        services.erasure.stored.drop_snapshots(connection_id(cid))
    finally:
        services.close()

    services = build(make_settings(database_url))  # no key or value cached in memory
    try:
        who = personal("2401")
        connection = services.app.load("tenant_a", cid)
        assert (connection.owner_email, connection.metadata) == (
            who["owner_email"],
            who["metadata"],
        )
        assert services.audit.verify(cid).personal_values_checked == 5
        services.connections.act(CALLER, cid, "disconnect", {})
        services.erasure.erase(cid, "ticket 2401", "test")
        assert services.app.load("tenant_a", cid).owner_email == ERASED
        report = services.audit.verify(cid)
        assert report.ok and report.erased
        assert who["owner_email"].encode() not in dump(database_url)
    finally:
        services.close()


def test_a_key_wrapped_with_fernet_by_the_first_release_opens_and_is_moved_by_rewrap(
    database_url,
):
    services = build(make_settings(database_url))
    try:
        cid = create(services, "2501")
        keys = services.app.mapper.keys
        (row,) = [r for r in keys.rows.wrapped() if r.key_id in services.app.data_key_ids(cid)]
        assert row.wrapped_key.startswith("kw1:")
        key = keys.for_reading(row.key_id)
        as_first_release = keys._ring.encrypt(key).decode()  # Fernet, as it wrapped them
        assert keys.rows.rewrap(row.key_id, row.wrapped_key, as_first_release)
    finally:
        services.close()

    services = build(make_settings(database_url))  # nothing cached
    try:
        assert services.app.load("tenant_a", cid).owner_email == personal("2501")["owner_email"]
        assert services.app.mapper.keys.rewrap() == 1  # that one; the others are kw1 already
        (moved,) = [r for r in services.app.mapper.keys.rows.wrapped() if r.key_id == row.key_id]
        assert moved.wrapped_key == row.wrapped_key  # kw1 again: key wrap is deterministic
        assert services.audit.verify(cid).personal_values_checked == 5
    finally:
        services.close()


def connection_id(text: str) -> UUID:
    return UUID(text)


def test_an_event_written_without_data_keys_is_read_as_written(database_url):
    """An application opened without the container's data keys (a bare ConnectionsApp, as
    a script or the bench's seeder opens one) stores personal values as they are, under
    `meta.pii`. The service reads such an event as written: it once decoded it as an empty
    event, and every follower stopped there."""
    services = build(make_settings(database_url))
    try:
        mapper = services.app.mapper
        keys, mapper.keys = mapper.keys, None
        try:
            cid = create(services, "2501")
        finally:
            mapper.keys = keys
        (first,) = services.app.recorder.select_events(connection_id(cid), lte=1)
        event = mapper.to_domain_event(first)
        assert (event.originator_id, event.owner_email) == (
            connection_id(cid),
            personal("2501")["owner_email"],
        )
        for follower in services.followers:
            follower.catch_up()
            assert follower.stuck() is None, follower.name
        row = services.connections.view.get("tenant_a", cid)
        assert services.connections.projection.from_row(row).owner_email == event.owner_email
    finally:
        services.close()


def test_another_process_reads_a_batch_of_keys_at_once_but_never_a_destroyed_one(database_url):
    """Keys are made in batches; a process that did not make them (a follower reading
    what a server wrote) asks the store once for the batch of the first it meets, and
    keeps none that an erasure destroyed."""
    maker = build(make_settings(database_url))
    reader = build(make_settings(database_url))
    try:
        first, erased, third = (create(maker, tag) for tag in ("2601", "2602", "2603"))
        maker.connections.act(CALLER, erased, "disconnect", {})
        maker.erasure.erase(erased, "ticket 2602", "test")

        keys = reader.app.mapper.keys
        asked: list[str] = []
        made_with = keys.rows.made_with
        keys.rows.made_with = lambda key_id, batch: asked.append(key_id) or made_with(key_id, batch)

        assert reader.app.load("tenant_a", first).owner_email == personal("2601")["owner_email"]
        assert len(asked) == 1
        assert reader.app.load("tenant_a", third).owner_email == personal("2603")["owner_email"]
        assert len(asked) == 1  # the third's key came with the first's
        assert reader.app.load("tenant_a", erased).owner_email == ERASED
    finally:
        maker.close()
        reader.close()

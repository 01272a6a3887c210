"""Changing an event's shape later without rewriting history (eventsourcing upcasting)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.chain import seal
from domain.connection import Connection, Context
from service.container import build
from tests.conftest import START, make_settings


@pytest.fixture
def services(database_url):
    built = build(make_settings(database_url))
    yield built
    built.close()


def _record_v1_disconnected(services, c: Connection) -> None:
    """Writes a `Disconnected` event as version 1 of the class recorded it: no `error`
    field and no class_version marker, sealed into the chain like any event."""
    at = START + timedelta(days=1)
    fields = {
        "timestamp": at,
        "reason": "requested",
        "meta": {"actor": "api_key:acme/key_old", "request_id": None, "correlation_id": None},
    }
    fields["meta"] = seal("Connection.Disconnected", c.id, c.version + 1, c.chain_head, fields)
    state = services.app.mapper.transcoder.encode(fields)
    services.app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=c.id,
                originator_version=c.version + 1,
                topic=get_topic(Connection.Disconnected),
                state=state,
            )
        ]
    )


def test_an_event_recorded_in_its_old_shape_loads_upcast_and_still_verifies(services):
    c = Connection.invite(
        Context(actor="api_key:acme/key_1", at=START),
        tenant_id="acme",
        owner_email="owner@example.com",
        region="eu",
        marketplace_ids=["A1PA6795UKMFR9"],
    )
    services.connections.save(c)
    _record_v1_disconnected(services, c)

    loaded = services.app.load("acme", str(c.id))
    assert loaded.state == "disconnected"
    assert loaded.disconnect_reason == "requested"
    old = list(services.app.events.get(c.id))[-1]
    assert old.error is None  # filled in by Disconnected.upcast_v1_v2
    assert services.audit.verify(str(c.id)).ok

    services.projection.catch_up()
    assert services.view.get("acme", str(c.id)).state == "disconnected"


def test_new_events_are_recorded_in_the_current_shape(services):
    c = Connection.invite(
        Context(actor="a", at=START),
        tenant_id="acme",
        owner_email="owner@example.com",
        region="eu",
        marketplace_ids=["A1PA6795UKMFR9"],
    )
    c.expire_invitation(Context(actor="system:deadlines", at=START + timedelta(days=15)))
    services.connections.save(c)
    stored = services.app.recorder.select_events(c.id)[-1]
    recorded = services.app.mapper.transcoder.decode(stored.state)
    assert recorded["class_version"] == 2
    assert recorded["error"]["code"] == "INVITATION_EXPIRED"


def test_an_advertising_connection_recorded_before_profiles_were_kept_lists_its_one_profile(
    services,
):
    c = Connection.invite(
        Context(actor="a", at=START),
        tenant_id="acme",
        owner_email="owner@example.com",
        region="na",
        marketplace_ids=["ATVPDKIKX0DER"],
        requires_advertising=True,
    )
    ctx = Context(actor="owner", at=START + timedelta(minutes=1))
    c.start_authorization(ctx, "att", START + timedelta(minutes=15))
    c.complete_authorization(ctx, selling_partner_id="A1SELLER", refresh_token_encrypted="gA")
    services.connections.save(c)
    at = START + timedelta(hours=1)
    fields = {
        "timestamp": at,
        "profile_id": "123456",
        "refresh_token_encrypted": services.box.encrypt("Atzr|old-ads"),
        "meta": {"actor": "owner", "request_id": None, "correlation_id": None},
    }
    fields["meta"] = seal(
        "Connection.AdvertisingConnected", c.id, c.version + 1, c.chain_head, fields
    )
    services.app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=c.id,
                originator_version=c.version + 1,
                topic=get_topic(Connection.AdvertisingConnected),
                state=services.app.mapper.transcoder.encode(fields),
            )
        ]
    )
    loaded = services.app.load("acme", str(c.id))
    assert loaded.advertising == "connected"
    assert loaded.advertising_profiles == []  # upcast: version 1 kept none
    from domain.access import advertising_profiles

    assert advertising_profiles(loaded) == [{"profile_id": "123456"}]
    assert services.audit.verify(str(c.id)).ok

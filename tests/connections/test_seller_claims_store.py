"""The seller claim in the store (domain.seller_claims), on SQLite and PostgreSQL: saved in
the connection's own transaction, through group commit, invisible to every follower; and
connections recorded before `selling_partner_id_source` existed still read, with it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.chain import seal
from domain.connection import Connection, Context
from domain.seller_claims import SellerClaim, SellingPartnerAlreadyConnected, claim_id
from service.api.caller import Caller
from service.container import Services, build
from tests.conftest import START, make_settings

SPEC = {"owner_email": "owner@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}
TENANT = "tenant_claims"


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build(make_settings(database_url))
    yield built
    built.close()


def ctx(request_id: str) -> Context:
    return Context(actor="test", at=START, request_id=request_id)


def imported(partner: str, request_id: str) -> Connection:
    c = Connection.invite(ctx(request_id), tenant_id=TENANT, **SPEC)
    c.import_authorization(
        ctx(request_id),
        selling_partner_id=partner,
        refresh_token_encrypted="ciphertext",
        authorized_at=START - timedelta(days=1),
    )
    return c


class HeldFirstWrite:
    """Holds the first transaction open so that the commands saved meanwhile queue behind
    it and the next transaction carries them all."""

    def __init__(self, app) -> None:
        self.original = app._record
        self.entered, self.go = threading.Event(), threading.Event()
        self.sizes: list[int] = []
        app._record = self._record

    def _record(self, processing):
        self.sizes.append(len(processing.events))
        if len(self.sizes) == 1:
            self.entered.set()
            assert self.go.wait(30)
        return self.original(processing)


def test_a_batch_with_two_takers_of_one_seller_refuses_only_the_second(services: Services):
    app = services.app
    held = HeldFirstWrite(app)

    def save(c: Connection) -> str:
        try:
            app.store(c)
        except SellingPartnerAlreadyConnected:
            return "409"
        return "stored"

    takers = [imported("A1CONTESTED", f"take-{i}") for i in range(2)]
    bystanders = [Connection.invite(ctx(f"create-{i}"), tenant_id=TENANT, **SPEC) for i in range(5)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        first = pool.submit(save, Connection.invite(ctx("blocker"), tenant_id=TENANT, **SPEC))
        assert held.entered.wait(30)
        outcomes = [pool.submit(save, c) for c in takers]
        created = [pool.submit(save, c) for c in bystanders]
        while len(app.group_commit._queue) < len(takers) + len(bystanders):
            threading.Event().wait(0.005)
        held.go.set()
        assert first.result() == "stored"
        assert [f.result() for f in created] == ["stored"] * len(bystanders)
        results = [f.result() for f in outcomes]

    # The seven queued commands went in one transaction (refused), then each alone.
    assert held.sizes[1] == 2 * 4 + len(bystanders)
    assert sorted(results) == ["409", "stored"]
    winner = takers[results.index("stored")]
    loser = takers[results.index("409")]
    claim = app.repository.get(claim_id(TENANT, "A1CONTESTED"))
    assert claim.holder == str(winner.id)
    assert app.recorder.select_events(loser.id) == []  # neither of its events stayed


def test_claims_are_no_connection_to_any_follower_or_reader(services: Services):
    c = imported("A1FOLLOWED", "import")
    services.app.store(c)
    cid = claim_id(TENANT, "A1FOLLOWED")
    head = services.app.recorder.max_notification_id()
    for follower in services.followers:
        follower.catch_up()
        assert follower.stuck() is None
        assert follower.step.position() == head

    caller = Caller(tenant_id=TENANT, actor="test")
    assert services.view.all_ids() == [str(c.id)]
    for read in (
        lambda: services.connections.get(caller, str(cid)),
        lambda: services.connections.get(caller, str(cid), as_of=START + timedelta(days=1)),
        lambda: services.connections.history(caller, str(cid)),
    ):
        with pytest.raises(Exception) as refused:
            read()
        assert getattr(refused.value, "code", None) == "NOT_FOUND"
    assert services.audit.verify(str(c.id)).ok
    assert [r.connection_id for r in services.audit.verify_all()] == [str(c.id)]
    assert isinstance(services.app.repository.get(cid), SellerClaim)


def _record_v1(services: Services, c: Connection, event_class, **fields) -> None:
    """Writes an event as its version 1 recorded it: no `selling_partner_id_source`."""
    fields = {"timestamp": START, **fields, "meta": {"actor": "old", "request_id": None}}
    name = event_class.__qualname__
    fields["meta"] = seal(name, c.id, c.version + 1, c.chain_head, fields)
    services.app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=c.id,
                originator_version=c.version + 1,
                topic=get_topic(event_class),
                state=services.app.mapper.transcoder.encode(fields),
            )
        ]
    )


@pytest.mark.parametrize(
    ("event_class", "extra", "source"),
    [
        (Connection.AuthorizationCompleted, {}, "consent"),
        (Connection.AuthorizationImported, {"authorized_at": START}, "import"),
    ],
)
def test_an_authorization_recorded_before_provenance_reads_with_its_source(
    services: Services, event_class, extra, source
):
    c = Connection.invite(ctx("old"), tenant_id=TENANT, **SPEC)
    if event_class is Connection.AuthorizationCompleted:
        c.start_authorization(ctx("old"), "attempt", START + timedelta(minutes=15))
    services.app.store(c)
    _record_v1(
        services,
        c,
        event_class,
        selling_partner_id="A1OLDSELLER",
        refresh_token_encrypted="ciphertext",
        reauth_due_at=START + timedelta(days=335),
        lapses_at=START + timedelta(days=365),
        **extra,
    )

    loaded = services.app.load(TENANT, str(c.id))
    assert loaded.selling_partner_id_source == source
    assert services.audit.verify(str(c.id)).ok
    services.projection.catch_up()
    row = services.view.get(TENANT, str(c.id))
    assert services.projection.from_row(row).selling_partner_id_source == source


@pytest.mark.parametrize(("imported_", "source"), [(True, "import"), (False, "consent")])
def test_a_snapshot_taken_before_provenance_reads_with_its_source(imported_, source):
    c = Connection.invite(ctx("old"), tenant_id=TENANT, **SPEC)
    if imported_:
        c.import_authorization(
            ctx("old"),
            selling_partner_id="A1SNAPPED",
            refresh_token_encrypted="ciphertext",
            authorized_at=START,
        )
    else:
        c.start_authorization(ctx("old"), "attempt", START + timedelta(minutes=15))
        c.complete_authorization(
            ctx("old"), selling_partner_id="A1SNAPPED", refresh_token_encrypted="ciphertext"
        )
    taken = Snapshot.take(c)
    state = dict(taken.state)
    state.pop("class_version")
    state.pop("selling_partner_id_source")  # as version 1 of the aggregate had it
    old = Snapshot(**{**taken.__dict__, "state": state})

    assert old.mutate(None).selling_partner_id_source == source

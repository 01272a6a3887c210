"""The chain seals commitments to personal values (domain.chain, domain.personal): an
event's hash is the same whatever stands where a personal value was (the value, its
ciphertext, or "[erased]"), and a commitment cannot be matched without its salt."""

from __future__ import annotations

import hashlib

from domain.chain import ENVELOPE, recompute
from domain.connection import Connection, Context
from domain.personal import ERASED, commitment, erased, get_path, with_path
from tests.conftest import START

OWNER = "owner.7711@example.com"


def invited() -> Connection:
    return Connection.invite(
        Context("user_1", START),
        tenant_id="tenant_a",
        owner_email=OWNER,
        region="na",
        marketplace_ids=["ATVPDKIKX0DER"],
        invited_by={"name": "Ann Agent", "email": "ann@agency.example", "role": "agency"},
        metadata={"crm": "Contact 42"},
    )


def test_an_events_hash_holds_whatever_stands_where_its_personal_values_were():
    event = invited().pending_events[0]
    fields = {k: v for k, v in vars(event).items() if not k.startswith("originator")}
    meta = fields["meta"]
    assert [path for path, _ in meta["pii"]] == [
        ["owner_email"], ["invited_by", "name"], ["invited_by", "email"], ["metadata", "crm"]
    ]  # fmt: skip
    name = type(event).__qualname__
    sealed = recompute(name, event.originator_id, 1, fields)
    assert sealed == meta["hash"]
    for stand_in in ({"pv": "pv1:ciphertext", "k": "key"}, ERASED):
        replaced = fields
        for path, _ in meta["pii"]:
            replaced = with_path(replaced, tuple(path), stand_in)
        assert recompute(name, event.originator_id, 1, replaced) == sealed
    # As the store keeps them: the values in one envelope beside the commitments.
    stored = {**replaced, "meta": {**meta, ENVELOPE: {"k": "key", "pv": "pv1:ciphertext"}}}
    assert recompute(name, event.originator_id, 1, stored) == sealed
    # Anything else changed is seen.
    assert recompute(name, event.originator_id, 1, {**fields, "region": "eu"}) != sealed


def test_a_commitment_is_salted_and_names_nothing_without_its_salt():
    event = invited().pending_events[0]
    (path, sealed), salt = event.meta["pii"][0], event.meta["salts"][0]
    assert sealed == commitment(tuple(path), salt, OWNER)
    assert sealed != hashlib.sha256(OWNER.encode()).hexdigest()
    again = invited().pending_events[0].meta["pii"][0][1]
    assert again != sealed  # a fresh salt every time: equal values do not show


def test_erasing_a_connections_state_leaves_the_role_and_everything_not_personal():
    connection = invited()
    state = erased(vars(connection))
    assert state["owner_email"] == ERASED
    assert state["invited_by"] == {"name": ERASED, "email": ERASED, "role": "agency"}
    assert state["metadata"] == {"crm": ERASED}
    assert get_path(state, ("region",)) == "na"
    assert connection.owner_email == OWNER  # a copy: the aggregate is untouched

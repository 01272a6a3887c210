"""Any sequence of commands, accepted or refused, leaves an aggregate its events rebuild.

Hypothesis draws a connection and up to 25 triggers with plausible arguments (half of them
among the triggers the machine would accept, so walks reach the later states). A refused
trigger must change nothing; every version replayed from the stored events, from the first
event and from a snapshot, must equal the live aggregate as it was at that version.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from domain import lifecycle as lc
from domain.connection import Connection, Context
from domain.errors import SELLER_FACING
from domain.exceptions import DomainError
from domain.permissions import PERMISSION_LEVELS, REQUIRED_SC_PERMISSIONS
from service.connections.application import ConnectionsApp
from tests.conftest import START

TRIGGERS = lc.triggers()[1:]
PARTNERS = ("A2SELLERPARTNER", "A9OTHERPARTNER")
ERROR_CODES = sorted(SELLER_FACING)
ENDINGS = ("disconnect", "expire_invitation")


def permissions() -> st.SearchStrategy[dict[str, str]]:
    """Mostly the required matrix, sometimes with categories changed or missing."""
    changed = st.dictionaries(
        st.sampled_from(sorted(REQUIRED_SC_PERMISSIONS)),
        st.sampled_from(PERMISSION_LEVELS),
        max_size=3,
    )
    return st.one_of(
        st.just(dict(REQUIRED_SC_PERMISSIONS)),
        changed.map(lambda c: {**REQUIRED_SC_PERMISSIONS, **c}),
    )


def arguments(trigger: str) -> st.SearchStrategy[dict[str, Any]]:
    attempt = st.fixed_dictionaries(
        {
            "attempt_id": st.text("abc123", min_size=1, max_size=6),
            "expires_at": st.just(START + timedelta(days=400)),
        }
    )
    token = st.text("abcdefXYZ-_", min_size=1, max_size=12).map("gAAAA".__add__)
    error = st.fixed_dictionaries(
        {"code": st.sampled_from(ERROR_CODES), "detail": st.none() | st.text(max_size=20)}
    )
    partner = st.fixed_dictionaries(
        {"selling_partner_id": st.sampled_from(PARTNERS), "refresh_token_encrypted": token}
    )
    return {
        "start_authorization": attempt,
        "start_advertising_authorization": attempt,
        "start_reauthorization": attempt,
        "complete_authorization": partner,
        "complete_reauthorization": partner,
        "import_authorization": partner.map(lambda p: {**p, "authorized_at": START}),
        "fail_authorization": error,
        "fail_advertising_authorization": error,
        "fail_reauthorization": error,
        "record_warning": error,
        "mark_reauth_due": st.one_of(st.just({}), error),
        "invite_seller_central_user": st.fixed_dictionaries({"email": st.emails()}),
        "erase": st.just({"reason": "ticket-1", "redacted": {}}),
        "confirm_seller_central_user": st.fixed_dictionaries({"permissions": permissions()}),
        "fail_seller_central_authorization": st.fixed_dictionaries(
            {"detail": st.none() | st.text(max_size=20)}
        ),
        "complete_advertising_authorization": st.fixed_dictionaries(
            {
                "profile_id": st.text("0123456789", min_size=1, max_size=8),
                "refresh_token_encrypted": token,
            }
        ),
        "remind_reauthorization": st.fixed_dictionaries({"days_left": st.sampled_from([30, 7, 1])}),
        "disconnect": st.fixed_dictionaries({"reason": st.sampled_from(["requested", "churn"])}),
    }.get(trigger, st.just({}))


def progressing(connection: Connection) -> list[str]:
    """Triggers the machine would accept now, preferring those that move to another state
    but not to `disconnected` (a random draw still may), so walks reach the later states."""
    accepted = [t for t in TRIGGERS if lc.failed_guards(t, connection) == []]
    moving = [
        t
        for t in accepted
        if lc.destination(t, connection.state) not in (connection.state, lc.DISCONNECTED)
    ]
    return moving or [t for t in accepted if t not in ENDINGS]


def observable(connection: Connection) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in vars(connection).items() if k != "_pending_events"})


@settings(max_examples=150, deadline=None)
@given(
    account_type=st.sampled_from(["seller", "vendor"]),
    requires_advertising=st.booleans(),
    steps=st.integers(min_value=0, max_value=25),
    data=st.data(),
)
def test_refused_commands_change_nothing_and_every_version_replays_equal(
    account_type: str, requires_advertising: bool, steps: int, data: st.DataObject
):
    at = START
    connection = Connection.invite(
        Context("user_1", at),
        tenant_id="tenant_a",
        owner_email="owner@example.com",
        region="na",
        marketplace_ids=["ATVPDKIKX0DER"],
        account_type=account_type,
        requires_advertising=requires_advertising,
    )
    as_of_version = {connection.version: observable(connection)}

    for _ in range(steps):
        candidates = progressing(connection) if data.draw(st.booleans()) else TRIGGERS
        trigger = data.draw(st.sampled_from(candidates or TRIGGERS))
        kwargs = data.draw(arguments(trigger))
        at += timedelta(minutes=data.draw(st.integers(min_value=0, max_value=60 * 24 * 30)))
        before, pending = observable(connection), len(connection.pending_events)
        try:
            getattr(connection, trigger)(Context("user_1", at, "req_x"), **kwargs)
        except DomainError:
            assert observable(connection) == before
            assert len(connection.pending_events) == pending
        else:
            assert connection.version == before["_version"] + 1
            as_of_version[connection.version] = observable(connection)
            event(f"reached {connection.state}")  # see --hypothesis-show-statistics

    app = ConnectionsApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(connection)
    assert_every_version_replays(app, connection, as_of_version)
    # Long-lived connections load from a snapshot plus the events after it.
    app.take_snapshot(
        connection.id, version=data.draw(st.integers(min_value=1, max_value=connection.version))
    )
    assert_every_version_replays(app, connection, as_of_version)


def assert_every_version_replays(
    app: ConnectionsApp, live: Connection, as_of_version: dict[int, dict[str, Any]]
) -> None:
    for version, expected in as_of_version.items():
        assert observable(app.repository.get(live.id, version=version)) == expected
    assert observable(app.repository.get(live.id)) == observable(live)

"""The lifecycle of SPEC §2, checked trigger by trigger from every state.

Each case walks a fresh Connection to a state with real commands, then fires one trigger.
The expected outcomes are transcribed from the SPEC here, not read from `domain.lifecycle`,
so the machine is never the only source of its own test.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from domain import lifecycle as lc
from domain.connection import Connection, Context
from domain.exceptions import ApiAuthorizationRequired, InvalidTransition
from domain.permissions import REQUIRED_SC_PERMISSIONS
from tests import contract
from tests.conftest import START

INVITED, OWNER_PENDING, API_AUTHORIZED = "invited", "owner_pending", "api_authorized"
SC_USER_INVITED, PERMISSIONS_VERIFIED = "sc_user_invited", "permissions_verified"
ACTIVE, REAUTH_DUE, DISCONNECTED = "active", "reauth_due", "disconnected"

SPEC_STATES = contract.STATES
LIVE = SPEC_STATES[:-1]
AUTHORIZED = (API_AUTHORIZED, SC_USER_INVITED, PERMISSIONS_VERIFIED, ACTIVE, REAUTH_DUE)

# SPEC §2's list, as written: trigger -> {source: destination}.
SPEC_TRANSITIONS: dict[str, dict[str, str]] = {
    "resend_invitation": {INVITED: INVITED},
    "start_authorization": {INVITED: OWNER_PENDING, OWNER_PENDING: OWNER_PENDING},
    "complete_authorization": {OWNER_PENDING: API_AUTHORIZED},
    "fail_authorization": {OWNER_PENDING: INVITED},
    "invite_seller_central_user": {API_AUTHORIZED: SC_USER_INVITED},
    "confirm_seller_central_user": {SC_USER_INVITED: PERMISSIONS_VERIFIED},
    "fail_seller_central_authorization": {SC_USER_INVITED: SC_USER_INVITED},
    # api_authorized -> active only when no Seller Central user is required (see below).
    "activate": {PERMISSIONS_VERIFIED: ACTIVE, API_AUTHORIZED: ACTIVE},
    "mark_reauth_due": {ACTIVE: REAUTH_DUE},
    "start_reauthorization": {REAUTH_DUE: REAUTH_DUE},
    # SPEC §7: "a re-authorization is accepted for active connections as well".
    "complete_reauthorization": {REAUTH_DUE: ACTIVE, ACTIVE: ACTIVE},
    "disconnect": {s: DISCONNECTED for s in LIVE},
    "expire_invitation": {INVITED: DISCONNECTED},
}
ADVERTISING_TRIGGERS = (
    "start_advertising_authorization",
    "complete_advertising_authorization",
    "fail_advertising_authorization",
)
# Triggers the service fires itself for the Advertising sub-status (§2) and the timers (§6).
# The SPEC names what they record, not where they lead; this pins down the design's choice.
SERVICE_TRANSITIONS: dict[str, dict[str, str]] = {
    "expire_seller_central_invite": {SC_USER_INVITED: API_AUTHORIZED},
    "import_authorization": {INVITED: API_AUTHORIZED},  # SPEC §9: import
    **{t: {s: s for s in AUTHORIZED} for t in ADVERTISING_TRIGGERS},
    "remind_reauthorization": {REAUTH_DUE: REAUTH_DUE},
    "lapse": {REAUTH_DUE: REAUTH_DUE},
    "fail_reauthorization": {REAUTH_DUE: REAUTH_DUE, ACTIVE: ACTIVE},  # SPEC §7: early renewal
    "record_warning": {s: s for s in AUTHORIZED},
    "erase": {DISCONNECTED: DISCONNECTED},  # SPEC §14: its own admin route
}
EXPECTED = {**SPEC_TRANSITIONS, **SERVICE_TRANSITIONS}
# SPEC §4: the actions an integrator may POST.
SPEC_PUBLIC_ACTIONS = set(contract.PUBLIC_ACTIONS)

SELLING_PARTNER = "A2SELLERPARTNER"
WINDOW = timedelta(minutes=15)

# Every trigger with plausible arguments, as the service would call it.
COMMANDS: dict[str, Callable[[Connection, Context], Any]] = {
    "resend_invitation": lambda c, ctx: c.resend_invitation(ctx),
    "start_authorization": lambda c, ctx: c.start_authorization(ctx, "att_sp", ctx.at + WINDOW),
    "complete_authorization": lambda c, ctx: c.complete_authorization(
        ctx, selling_partner_id=SELLING_PARTNER, refresh_token_encrypted="gAAAA-sp-1"
    ),
    "fail_authorization": lambda c, ctx: c.fail_authorization(ctx, "NOT_PRIMARY_OWNER"),
    "invite_seller_central_user": lambda c, ctx: c.invite_seller_central_user(
        ctx, "sc-user@integrator.example"
    ),
    "confirm_seller_central_user": lambda c, ctx: c.confirm_seller_central_user(
        ctx, dict(REQUIRED_SC_PERMISSIONS)
    ),
    "fail_seller_central_authorization": lambda c, ctx: c.fail_seller_central_authorization(
        ctx, "the owner removed the user"
    ),
    "expire_seller_central_invite": lambda c, ctx: c.expire_seller_central_invite(ctx),
    "start_advertising_authorization": lambda c, ctx: c.start_advertising_authorization(
        ctx, "att_ads", ctx.at + WINDOW
    ),
    "complete_advertising_authorization": lambda c, ctx: c.complete_advertising_authorization(
        ctx, profile_id="ads_profile_1", refresh_token_encrypted="gAAAA-ads-1"
    ),
    "fail_advertising_authorization": lambda c, ctx: c.fail_advertising_authorization(
        ctx, "ADVERTISING_NOT_ENABLED"
    ),
    "activate": lambda c, ctx: c.activate(ctx),
    "import_authorization": lambda c, ctx: c.import_authorization(
        ctx,
        selling_partner_id=SELLING_PARTNER,
        refresh_token_encrypted="gAAAA-sp-imported",
        authorized_at=ctx.at,
    ),
    "mark_reauth_due": lambda c, ctx: c.mark_reauth_due(ctx),
    "remind_reauthorization": lambda c, ctx: c.remind_reauthorization(ctx, days_left=7),
    "lapse": lambda c, ctx: c.lapse(ctx),
    "start_reauthorization": lambda c, ctx: c.start_reauthorization(
        ctx, "att_reauth", ctx.at + WINDOW
    ),
    "complete_reauthorization": lambda c, ctx: c.complete_reauthorization(
        ctx, selling_partner_id=SELLING_PARTNER, refresh_token_encrypted="gAAAA-sp-2"
    ),
    "fail_reauthorization": lambda c, ctx: c.fail_reauthorization(ctx, "ACCESS_REVOKED"),
    "record_warning": lambda c, ctx: c.record_warning(ctx, "AMAZON_UNAVAILABLE"),
    "disconnect": lambda c, ctx: c.disconnect(ctx, "integrator_request"),
    "expire_invitation": lambda c, ctx: c.expire_invitation(ctx),
    "erase": lambda c, ctx: c.erase(ctx, "ticket-1", {}),
}

_TO_API = ("start_authorization", "complete_authorization")
_ADVERTISING = ("start_advertising_authorization", "complete_advertising_authorization")
_SELLER_CENTRAL = ("invite_seller_central_user", "confirm_seller_central_user")
PATHS: dict[str, tuple[str, ...]] = {
    INVITED: (),
    OWNER_PENDING: _TO_API[:1],
    API_AUTHORIZED: _TO_API,
    SC_USER_INVITED: (*_TO_API, *_SELLER_CENTRAL[:1]),
    PERMISSIONS_VERIFIED: (*_TO_API, *_SELLER_CENTRAL),
    ACTIVE: (*_TO_API, *_ADVERTISING, *_SELLER_CENTRAL, "activate"),
    REAUTH_DUE: (*_TO_API, *_ADVERTISING, *_SELLER_CENTRAL, "activate", "mark_reauth_due"),
    DISCONNECTED: (*_TO_API, "disconnect"),
}

# Connections differ in what activation waits for (fixed at creation).
PROFILES: dict[str, dict[str, Any]] = {
    "seller": {},  # a Seller Central user is required by default
    "vendor": {"account_type": "vendor"},  # no Seller Central user by default
    "vendor_with_ads": {"account_type": "vendor", "requires_advertising": True},
}


def at(minutes: int) -> Context:
    return Context(actor="user_1", at=START + timedelta(minutes=minutes), request_id="req_1")


def fire(connection: Connection, trigger: str, minutes: int = 24 * 60) -> Any:
    return COMMANDS[trigger](connection, at(minutes))


def new_connection(**requirements: Any) -> Connection:
    return Connection.invite(
        at(0),
        tenant_id="tenant_a",
        owner_email="owner@example.com",
        region="na",
        marketplace_ids=["ATVPDKIKX0DER"],
        **requirements,
    )


def connection_in(state: str, **requirements: Any) -> Connection:
    """A fresh connection walked to `state` by real commands. Steps for a track the
    connection does not require (Seller Central user, Advertising) are skipped; the
    Advertising consent completes just before activation, so api_authorized has it pending."""
    connection = new_connection(**requirements)
    for minute, trigger in enumerate(PATHS[state], start=1):
        if trigger in _SELLER_CENTRAL and not connection.requires_seller_central_user:
            continue
        if trigger in _ADVERTISING and not connection.requires_advertising:
            continue
        fire(connection, trigger, minute)
    assert connection.state == state
    return connection


def reachable(profile: str, state: str) -> bool:
    needs_sc_user = new_connection(**PROFILES[profile]).requires_seller_central_user
    return needs_sc_user or state not in (SC_USER_INVITED, PERMISSIONS_VERIFIED)


STARTS = [(p, s) for p in PROFILES for s in SPEC_STATES if reachable(p, s)]


def expected_destination(trigger: str, connection: Connection) -> str | None:
    """Where SPEC §2 says `trigger` leads from the connection's state; None if refused."""
    destination = EXPECTED[trigger].get(connection.state)
    if trigger in ADVERTISING_TRIGGERS and not connection.requires_advertising:
        return None
    if trigger == "activate":
        if connection.state == API_AUTHORIZED and connection.requires_seller_central_user:
            return None
        if connection.requires_advertising and connection.advertising != "connected":
            return None
    return destination


def observable(connection: Connection) -> dict[str, Any]:
    """Everything a reader of the aggregate could see, including how many events wait."""
    state = {k: v for k, v in vars(connection).items() if k != "_pending_events"}
    return copy.deepcopy({**state, "pending": len(connection.pending_events)})


# ----------------------------------------------------------------- the declaration


def test_the_machine_has_exactly_the_states_of_the_spec():
    assert lc.STATES == SPEC_STATES


def test_every_trigger_has_a_specified_outcome():
    assert lc.triggers()[0] == "invite"
    assert set(lc.triggers()) - {"invite"} == set(EXPECTED)
    assert set(COMMANDS) == set(EXPECTED)


def test_public_actions_are_the_actions_of_the_rest_api():
    assert set(lc.PUBLIC_ACTIONS) == SPEC_PUBLIC_ACTIONS


def test_describe_lists_every_trigger_and_exactly_the_specified_transitions():
    described = lc.describe()
    assert {t["trigger"] for t in described["transitions"]} == set(lc.triggers())
    edges = {(t["trigger"], t["source"], t["dest"]) for t in described["transitions"]}
    specified = {
        (trigger, source, dest)
        for trigger, moves in EXPECTED.items()
        for source, dest in moves.items()
    }
    assert edges == specified | {("invite", None, INVITED)}
    assert [s["name"] for s in described["states"]] == list(SPEC_STATES)
    assert described["initial"] == INVITED
    assert described["final"] == [DISCONNECTED]


def test_describe_names_the_guard_of_activation_without_a_seller_central_user():
    activations = {
        t["source"]: t["guards"] for t in lc.describe()["transitions"] if t["trigger"] == "activate"
    }
    assert "seller_central_user_not_required" in activations[API_AUTHORIZED]
    assert "seller_central_user_not_required" not in activations[PERMISSIONS_VERIFIED]


def test_mermaid_diagram_draws_every_state_and_every_change_of_state():
    diagram = lc.mermaid()
    assert diagram.startswith("stateDiagram-v2\n")
    assert f"[*] --> {INVITED}: invite" in diagram
    for state in SPEC_STATES:
        assert state in diagram
    # Internal transitions (no event changes the state) and `disconnect` from every live
    # state are left out of the picture on purpose; every other edge is drawn.
    for t in lc.describe()["transitions"][1:]:
        if t["trigger"] != "disconnect" and not t["internal"]:
            assert f"{t['source']} --> {t['dest']}: {t['trigger']}" in diagram
    assert "disconnect" in diagram


def test_failed_guards_tells_refused_blocked_and_allowed_apart():
    seller = connection_in(API_AUTHORIZED)
    vendor = connection_in(API_AUTHORIZED, account_type="vendor")
    assert lc.failed_guards("mark_reauth_due", seller) is None
    assert lc.failed_guards("activate", seller) == ["seller_central_user_not_required"]
    assert lc.failed_guards("activate", vendor) == []


def test_aggregates_share_the_one_machine_and_hold_no_machine_state():
    connection = connection_in(ACTIVE)
    assert lc.MACHINE.models == []
    assert not any(callable(v) for v in vars(connection).values())


# --------------------------------------------------------- every state x trigger


@pytest.mark.parametrize("trigger", sorted(EXPECTED))
@pytest.mark.parametrize(("profile", "state"), STARTS, ids=[f"{p}-{s}" for p, s in STARTS])
def test_trigger_from_state_follows_the_spec(profile: str, state: str, trigger: str):
    connection = connection_in(state, **PROFILES[profile])
    destination = expected_destination(trigger, connection)
    if destination is not None:
        version = connection.version
        fire(connection, trigger)
        assert connection.state == destination
        assert connection.version == version + 1
        return

    before = observable(connection)
    refusal = (
        ApiAuthorizationRequired
        if trigger == "invite_seller_central_user" and state in (INVITED, OWNER_PENDING)
        else InvalidTransition
    )
    with pytest.raises(refusal) as refused:
        fire(connection, trigger)
    assert refused.value.code == refusal.code
    assert refused.value.extra["allowed_actions"] == connection.allowed_actions
    assert observable(connection) == before


@pytest.mark.parametrize(("profile", "state"), STARTS, ids=[f"{p}-{s}" for p, s in STARTS])
def test_allowed_actions_are_the_public_actions_the_spec_accepts(profile: str, state: str):
    connection = connection_in(state, **PROFILES[profile])
    accepted = [a for a in lc.PUBLIC_ACTIONS if expected_destination(a, connection)]
    assert connection.allowed_actions == accepted


def test_a_disconnected_connection_accepts_nothing():
    assert connection_in(DISCONNECTED).allowed_actions == []

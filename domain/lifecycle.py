"""The connection lifecycle, declared once.

This module-level machine is the single source for validating triggers, for
`allowed_actions`, for `GET /v1/state-machine` and for the README's diagram. It has no
model: aggregates ask it which transition a trigger takes from their state, then record
an event. Guards are named conditions evaluated against the aggregate by `GUARDS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from transitions import Machine

INVITED = "invited"
OWNER_PENDING = "owner_pending"
API_AUTHORIZED = "api_authorized"
SC_USER_INVITED = "sc_user_invited"
PERMISSIONS_VERIFIED = "permissions_verified"
ACTIVE = "active"
REAUTH_DUE = "reauth_due"
DISCONNECTED = "disconnected"

STATES: tuple[str, ...] = (
    INVITED,
    OWNER_PENDING,
    API_AUTHORIZED,
    SC_USER_INVITED,
    PERMISSIONS_VERIFIED,
    ACTIVE,
    REAUTH_DUE,
    DISCONNECTED,
)
STATE_MEANINGS: dict[str, str] = {
    INVITED: "An integrator user asked the account owner to connect.",
    OWNER_PENDING: "The owner opened the link; an Amazon consent window is open.",
    API_AUTHORIZED: "SP-API consent completed and account checks passed; data feeds may start.",
    SC_USER_INVITED: "The owner invited the integrator's Seller Central user; waiting for it.",
    PERMISSIONS_VERIFIED: "The Seller Central user has exactly the required permissions.",
    ACTIVE: "Fully connected.",
    REAUTH_DUE: "Amazon's yearly re-authorization is near, or access was lost.",
    DISCONNECTED: "Ended; a new connection may be created.",
}
WHO_ACTS_NEXT: dict[str, str] = {
    INVITED: "owner",
    OWNER_PENDING: "owner",
    API_AUTHORIZED: "integrator",
    SC_USER_INVITED: "owner",
    PERMISSIONS_VERIFIED: "service",
    ACTIVE: "nobody",
    REAUTH_DUE: "owner",
    DISCONNECTED: "nobody",
}

_LIVE = [s for s in STATES if s != DISCONNECTED]
# From the SP-API authorization on, until disconnected: the Amazon access may be used
# (domain/access.py), warnings recorded, the Advertising track run.
AUTHORIZED_STATES: tuple[str, ...] = (
    API_AUTHORIZED,
    SC_USER_INVITED,
    PERMISSIONS_VERIFIED,
    ACTIVE,
    REAUTH_DUE,
)
# The states Amazon's Login URI may renew (SPEC §7, §12): the re-authorization is due, or
# the owner renews early.
RENEWABLE_STATES: tuple[str, ...] = (ACTIVE, REAUTH_DUE)

# `dest: None` is an internal transition: the state stays, an event is still recorded.
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "resend_invitation", "source": INVITED, "dest": INVITED},
    {"trigger": "start_authorization", "source": [INVITED, OWNER_PENDING], "dest": OWNER_PENDING},
    {"trigger": "complete_authorization", "source": OWNER_PENDING, "dest": API_AUTHORIZED},
    {"trigger": "fail_authorization", "source": OWNER_PENDING, "dest": INVITED},
    # An authorization the owner gave elsewhere (another platform), checked with Amazon
    # before the connection is recorded: it is created and authorized at once (SPEC §9).
    {"trigger": "import_authorization", "source": INVITED, "dest": API_AUTHORIZED},
    {"trigger": "invite_seller_central_user", "source": API_AUTHORIZED, "dest": SC_USER_INVITED},
    {
        "trigger": "confirm_seller_central_user",
        "source": SC_USER_INVITED,
        "dest": PERMISSIONS_VERIFIED,
    },
    {
        "trigger": "fail_seller_central_authorization",
        "source": SC_USER_INVITED,
        "dest": SC_USER_INVITED,
    },
    {"trigger": "expire_seller_central_invite", "source": SC_USER_INVITED, "dest": API_AUTHORIZED},
    *[
        {
            "trigger": t,
            "source": list(AUTHORIZED_STATES),
            "dest": None,
            "conditions": ["advertising_required"],
        }
        for t in (
            "start_advertising_authorization",
            "complete_advertising_authorization",
            "fail_advertising_authorization",
        )
    ],
    {
        "trigger": "activate",
        "source": PERMISSIONS_VERIFIED,
        "dest": ACTIVE,
        "conditions": ["advertising_ready"],
    },
    {
        "trigger": "activate",
        "source": API_AUTHORIZED,
        "dest": ACTIVE,
        "conditions": ["seller_central_user_not_required", "advertising_ready"],
    },
    {"trigger": "mark_reauth_due", "source": ACTIVE, "dest": REAUTH_DUE},
    {"trigger": "remind_reauthorization", "source": REAUTH_DUE, "dest": None},
    {"trigger": "lapse", "source": REAUTH_DUE, "dest": None},
    {"trigger": "start_reauthorization", "source": REAUTH_DUE, "dest": REAUTH_DUE},
    {"trigger": "complete_reauthorization", "source": REAUTH_DUE, "dest": ACTIVE},
    {"trigger": "fail_reauthorization", "source": REAUTH_DUE, "dest": REAUTH_DUE},
    # Amazon lets a seller renew at any time (Manage Your Apps' "Re-authorize" reaches the
    # Login URI): an `active` connection's renewal restarts the yearly clock and stays
    # `active`, and its failure changes no state. It is opened by the Login URI's callback,
    # not by the public `start_reauthorization`, which stays a `reauth_due` action.
    {"trigger": "complete_reauthorization", "source": ACTIVE, "dest": None},
    {"trigger": "fail_reauthorization", "source": ACTIVE, "dest": None},
    {"trigger": "record_warning", "source": list(AUTHORIZED_STATES), "dest": None},
    {"trigger": "disconnect", "source": _LIVE, "dest": DISCONNECTED},
    {"trigger": "expire_invitation", "source": INVITED, "dest": DISCONNECTED},
    # Forgetting the people a connection names (SPEC §14): once, after it ended. Its own
    # route (scope `admin`), so not among the public actions.
    {"trigger": "erase", "source": DISCONNECTED, "dest": None, "conditions": ["not_erased"]},
]

MACHINE = Machine(
    model=None,
    states=list(STATES),
    transitions=TRANSITIONS,
    initial=None,
    auto_transitions=False,
)

CREATE_TRIGGER = "invite"

# Triggers an integrator may call over the API; the rest are fired by the service itself
# (the OAuth callback, timers, refresh health).
PUBLIC_ACTIONS: tuple[str, ...] = (
    "resend_invitation",
    "start_authorization",
    "invite_seller_central_user",
    "confirm_seller_central_user",
    "fail_seller_central_authorization",
    "start_advertising_authorization",
    "activate",
    "start_reauthorization",
    "disconnect",
)

GUARDS: dict[str, Callable[[Any], bool]] = {
    "seller_central_user_not_required": lambda c: not c.requires_seller_central_user,
    "advertising_required": lambda c: c.requires_advertising,
    "advertising_ready": lambda c: (not c.requires_advertising) or c.advertising == "connected",
    "not_erased": lambda c: c.erased_at is None,
}
GUARD_EXPLANATIONS: dict[str, str] = {
    "not_erased": "this connection's personal values were erased already",
    "advertising_required": "this connection was created without the Advertising track",
    "seller_central_user_not_required": (
        "this connection requires a Seller Central user: call invite_seller_central_user, "
        "then confirm_seller_central_user, before activating"
    ),
    "advertising_ready": (
        "this connection requires the Advertising track: call start_advertising_authorization "
        "and let the owner complete the Amazon Ads consent before activating"
    ),
}


def triggers() -> list[str]:
    """Every trigger, in declaration order, the creating one first."""
    names = [CREATE_TRIGGER]
    for t in TRANSITIONS:
        if t["trigger"] not in names:
            names.append(t["trigger"])
    return names


def _conditions(transition: Any) -> list[str]:
    return [c.func for c in transition.conditions]


@functools.cache
def _candidates(trigger: str, source: str | None) -> tuple[Any, ...]:
    """The machine's transitions for `trigger` from `source`, looked up once: the machine
    never changes, and every event applied and every connection shown asks."""
    return tuple(MACHINE.get_transitions(trigger=trigger, source=source))


def failed_guards(trigger: str, aggregate: Any) -> list[str] | None:
    """None when `trigger` has no transition from the aggregate's state; otherwise the
    guards that block every candidate transition ([] when one is allowed)."""
    candidates = _candidates(trigger, aggregate.state)
    if not candidates:
        return None
    blocked: list[str] = []
    for t in candidates:
        failed = [name for name in _conditions(t) if not GUARDS[name](aggregate)]
        if not failed:
            return []
        blocked.extend(f for f in failed if f not in blocked)
    return blocked


def destination(trigger: str, source: str | None) -> str:
    """The state `trigger` leads to from `source` (None: the creating trigger). Events
    take their state from here; guards were checked when the command ran."""
    if trigger == CREATE_TRIGGER:
        return INVITED
    for t in _candidates(trigger, source):
        return t.dest if t.dest is not None else source
    raise LookupError(f"{trigger} has no transition from {source}")


def allowed_actions(aggregate: Any) -> list[str]:
    """The public actions that would be accepted now, in declaration order."""
    return [a for a in PUBLIC_ACTIONS if failed_guards(a, aggregate) == []]


def describe() -> dict[str, Any]:
    """States and transitions as JSON-ready data."""
    transitions = [{"trigger": CREATE_TRIGGER, "source": None, "dest": INVITED, "guards": []}]
    for t in TRANSITIONS:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        for source in sources:
            transitions.append(
                {
                    "trigger": t["trigger"],
                    "source": source,
                    "dest": t["dest"] if t["dest"] is not None else source,
                    "guards": list(t.get("conditions", [])),
                    "public": t["trigger"] in PUBLIC_ACTIONS,
                    "internal": t["dest"] is None,
                }
            )
    return {
        "initial": INVITED,
        "final": [DISCONNECTED],
        "states": [
            {"name": s, "meaning": STATE_MEANINGS[s], "who_acts": WHO_ACTS_NEXT[s]} for s in STATES
        ],
        "transitions": transitions,
    }


def mermaid() -> str:
    """The diagram as Mermaid `stateDiagram-v2` text. To keep the picture readable,
    `disconnect` (from every live state) is a note, and internal transitions (the
    advertising track, reminders, warnings) are left to `GET /v1/state-machine`."""
    lines = ["stateDiagram-v2", f"    [*] --> {INVITED}: {CREATE_TRIGGER}"]
    seen: set[tuple[str, str, str]] = set()
    for t in describe()["transitions"][1:]:
        if t["trigger"] == "disconnect" or t["internal"]:
            continue
        key = (t["source"], t["dest"], t["trigger"])
        if key not in seen:
            seen.add(key)
            lines.append(f"    {t['source']} --> {t['dest']}: {t['trigger']}")
    lines.append(f"    note right of {DISCONNECTED}: disconnect from any live state")
    lines.append(f"    {DISCONNECTED} --> [*]")
    return "\n".join(lines) + "\n"

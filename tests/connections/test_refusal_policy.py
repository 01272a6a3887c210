"""The refusal policy as a table (domain.refusals): which command an Amazon refusal of a
refresh records, for each state a connection can be in."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from domain import lifecycle as lc
from domain.access import ADS, SP_API
from domain.refusals import consequence

REVOKED_AT = datetime(2026, 1, 5, tzinfo=UTC)


def connection(state: str, **fields: Any) -> Any:
    return SimpleNamespace(
        **{"state": state, "access_revoked_at": None, "warning": None, "advertising": "pending"}
        | fields
    )


@pytest.mark.parametrize(
    ("state", "command"),
    [
        (lc.INVITED, None),
        (lc.OWNER_PENDING, None),
        (lc.API_AUTHORIZED, "record_warning"),
        (lc.SC_USER_INVITED, "record_warning"),
        (lc.PERMISSIONS_VERIFIED, "record_warning"),
        (lc.ACTIVE, "mark_reauth_due"),
        (lc.REAUTH_DUE, "record_warning"),
        (lc.DISCONNECTED, None),
    ],
)
def test_a_revoked_grant_marks_an_active_connection_due_and_warns_any_other_authorized_one(
    state, command
):
    assert consequence(connection(state), SP_API, "ACCESS_REVOKED") == command


def test_a_revocation_already_recorded_records_nothing_more():
    for state in (lc.ACTIVE, lc.REAUTH_DUE, lc.API_AUTHORIZED):
        c = connection(state, access_revoked_at=REVOKED_AT)
        assert consequence(c, SP_API, "ACCESS_REVOKED") is None


def test_a_revoked_ads_grant_fails_the_connected_advertising_track_only():
    c = connection(lc.ACTIVE, advertising="connected")
    assert consequence(c, ADS, "ACCESS_REVOKED") == "fail_advertising_authorization"
    assert consequence(connection(lc.ACTIVE, advertising="failed"), ADS, "ACCESS_REVOKED") is None


def test_an_outage_warns_an_authorized_connection_once_unless_its_tracker_says_it_is_new():
    down = {"code": "AMAZON_UNAVAILABLE"}
    assert consequence(connection(lc.ACTIVE), SP_API, "AMAZON_UNAVAILABLE") == "record_warning"
    assert consequence(connection(lc.ACTIVE, warning=down), SP_API, "AMAZON_UNAVAILABLE") is None
    warned = connection(lc.ACTIVE, warning=down)
    assert consequence(warned, SP_API, "AMAZON_UNAVAILABLE", outage_began=True) == "record_warning"
    assert consequence(connection(lc.ACTIVE), SP_API, "AMAZON_UNAVAILABLE", False) is None
    assert consequence(connection(lc.INVITED), SP_API, "AMAZON_UNAVAILABLE", True) is None


@pytest.mark.parametrize("code", ["APP_CREDENTIALS_INVALID", "TOKEN_EXCHANGE_FAILED"])
def test_other_refusals_are_the_operators_concern_and_record_nothing(code):
    assert consequence(connection(lc.ACTIVE), SP_API, code) is None

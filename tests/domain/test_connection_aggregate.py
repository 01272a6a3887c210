"""What the Connection aggregate's commands record, beyond where the machine leads (SPEC §2)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from domain.connection import Connection
from domain.exceptions import ApiAuthorizationRequired, DomainError, InvalidTransition
from domain.permissions import REQUIRED_SC_PERMISSIONS
from tests.domain.test_lifecycle import (
    SELLING_PARTNER,
    at,
    connection_in,
    fire,
    new_connection,
    observable,
)


def test_requirements_default_by_account_type():
    seller, vendor = new_connection(), new_connection(account_type="vendor")
    assert seller.requires_seller_central_user is True
    assert vendor.requires_seller_central_user is False
    assert seller.requires_advertising is vendor.requires_advertising is False
    assert seller.advertising == vendor.advertising == "not_required"
    assert new_connection(requires_advertising=True).advertising == "pending"


def test_explicit_requirements_override_the_account_type_default():
    seller = new_connection(requires_seller_central_user=False)
    vendor = new_connection(account_type="vendor", requires_seller_central_user=True)
    assert seller.requires_seller_central_user is False
    assert vendor.requires_seller_central_user is True


def test_invitation_records_who_invited_and_when_it_expires():
    connection = Connection.invite(
        at(0),
        tenant_id="tenant_a",
        owner_email="owner@example.com",
        region="eu",
        marketplace_ids=["A1PA6795UKMFR9"],
        metadata={"crm_id": "42"},
        invited_by={"name": "Ana", "email": "ana@agency.example", "role": "agency"},
    )
    assert connection.state == "invited"
    assert connection.version == 1
    assert connection.invited_by["role"] == "agency"
    assert connection.metadata == {"crm_id": "42"}
    assert connection.invitation_expires_at == at(0).at + timedelta(days=14)
    assert connection.pending_events[0].meta["actor"] == "user_1"
    assert connection.pending_events[0].meta["request_id"] == "req_1"


@pytest.mark.parametrize("state", ["invited", "owner_pending"])
def test_seller_central_invite_before_api_authorization_is_refused(state: str):
    connection = connection_in(state)
    before = observable(connection)
    with pytest.raises(ApiAuthorizationRequired) as refused:
        fire(connection, "invite_seller_central_user")
    assert refused.value.code == "API_AUTHORIZATION_REQUIRED"
    assert "API authorization" in refused.value.detail
    assert "complete" in refused.value.detail
    assert refused.value.extra["allowed_actions"] == connection.allowed_actions
    assert observable(connection) == before


def test_seller_activation_without_the_seller_central_user_is_refused_naming_it():
    connection = connection_in("api_authorized")
    with pytest.raises(InvalidTransition) as refused:
        fire(connection, "activate")
    assert refused.value.code == "INVALID_TRANSITION"
    assert "Seller Central user" in refused.value.detail
    assert "activate" not in refused.value.extra["allowed_actions"]


def test_seller_without_a_required_seller_central_user_activates_after_api_authorization():
    connection = connection_in("api_authorized", requires_seller_central_user=False)
    fire(connection, "activate")
    assert connection.state == "active"


@pytest.mark.parametrize("account_type", ["seller", "vendor"])
def test_activation_waits_for_the_advertising_track(account_type: str):
    state = "permissions_verified" if account_type == "seller" else "api_authorized"
    connection = connection_in(state, account_type=account_type, requires_advertising=True)
    assert connection.advertising == "pending"
    assert_activation_refused_for_advertising(connection)

    fire(connection, "fail_advertising_authorization")
    assert connection.advertising == "failed"
    assert connection.last_error["code"] == "ADVERTISING_NOT_ENABLED"
    assert_activation_refused_for_advertising(connection)

    fire(connection, "start_advertising_authorization")
    fire(connection, "complete_advertising_authorization")
    assert connection.advertising == "connected"
    assert connection.last_error is None
    fire(connection, "activate")
    assert connection.state == "active"


def assert_activation_refused_for_advertising(connection: Connection) -> None:
    assert "activate" not in connection.allowed_actions
    with pytest.raises(InvalidTransition) as refused:
        fire(connection, "activate")
    assert "Advertising" in refused.value.detail


def test_advertising_consent_is_refused_when_the_track_was_not_required():
    connection = connection_in("active")
    with pytest.raises(InvalidTransition) as refused:
        fire(connection, "start_advertising_authorization")
    assert "without the Advertising track" in refused.value.detail


def test_failed_authorization_returns_to_invited_with_the_error():
    connection = connection_in("owner_pending")
    connection.fail_authorization(at(5), "NOT_PROFESSIONAL_ACCOUNT", "individual plan")
    assert connection.state == "invited"
    assert connection.authorization is None
    assert connection.last_error["code"] == "NOT_PROFESSIONAL_ACCOUNT"
    assert connection.last_error["detail"] == "individual plan"
    assert connection.last_attempt_at == at(5).at


def test_api_authorization_stores_the_token_and_starts_the_365_day_clock():
    connection = connection_in("owner_pending")
    connection.complete_authorization(
        at(10), selling_partner_id=SELLING_PARTNER, refresh_token_encrypted="gAAAA-cipher"
    )
    assert connection.selling_partner_id == SELLING_PARTNER
    assert connection.refresh_token_encrypted == "gAAAA-cipher"
    assert connection.lapses_at == at(10).at + timedelta(days=365)
    assert connection.reauth_due_at == at(10).at + timedelta(days=335)
    assert connection.authorization is None


def test_wrong_permission_matrix_stays_waiting_and_names_the_differing_categories():
    connection = connection_in("sc_user_invited")
    granted = {**REQUIRED_SC_PERMISSIONS, "pricing": "view", "settings_user_permissions": "admin"}
    del granted["orders"]

    assert connection.confirm_seller_central_user(at(30), granted) is False

    assert connection.state == "sc_user_invited"
    assert connection.last_error["code"] == "SELLER_CENTRAL_PERMISSIONS_INCORRECT"
    assert connection.last_error["differences"] == {
        "pricing": {"required": "view_and_edit", "granted": "view"},
        "settings_user_permissions": {"required": "none", "granted": "admin"},
        "orders": {"required": "view_and_edit", "granted": "none"},
    }
    assert "confirm_seller_central_user" in connection.allowed_actions


def test_correct_permission_matrix_after_a_wrong_one_verifies_and_clears_the_error():
    connection = connection_in("sc_user_invited")
    connection.confirm_seller_central_user(at(30), {**REQUIRED_SC_PERMISSIONS, "brand": "view"})
    assert connection.confirm_seller_central_user(at(31), dict(REQUIRED_SC_PERMISSIONS)) is True
    assert connection.state == "permissions_verified"
    assert connection.last_error is None
    assert connection.seller_central["status"] == "verified"


def test_seller_central_authorization_failure_leaves_sp_api_access_untouched():
    connection = connection_in("sc_user_invited")
    sp_api = {
        k: getattr(connection, k)
        for k in (
            "selling_partner_id",
            "refresh_token_encrypted",
            "authorized_at",
            "reauth_due_at",
            "lapses_at",
        )
    }

    connection.fail_seller_central_authorization(at(40), "user removed")

    assert connection.state == "sc_user_invited"
    assert connection.last_error["code"] == "SELLER_CENTRAL_AUTHORIZATION_FAILED"
    assert {k: getattr(connection, k) for k in sp_api} == sp_api


def test_expired_seller_central_invite_returns_to_api_authorized_for_a_new_invite():
    connection = connection_in("sc_user_invited")
    connection.expire_seller_central_invite(at(60))
    assert connection.state == "api_authorized"
    assert connection.last_error["code"] == "SELLER_CENTRAL_INVITE_EXPIRED"
    assert "invite_seller_central_user" in connection.allowed_actions


def test_reauthorization_by_another_selling_partner_is_refused():
    connection = connection_in("reauth_due")
    before = observable(connection)
    with pytest.raises(DomainError) as refused:
        connection.complete_reauthorization(
            at(90), selling_partner_id="A9SOMEONEELSE", refresh_token_encrypted="gAAAA-other"
        )
    assert refused.value.code == "SELLING_PARTNER_MISMATCH"
    assert observable(connection) == before


def test_reauthorization_stores_the_new_token_and_restarts_the_clock():
    connection = connection_in("reauth_due")
    later = at(60 * 24 * 340)
    connection.complete_reauthorization(
        later, selling_partner_id=SELLING_PARTNER, refresh_token_encrypted="gAAAA-new"
    )
    assert connection.state == "active"
    assert connection.refresh_token_encrypted == "gAAAA-new"
    assert connection.authorized_at == later.at
    assert connection.reauth_due_at == later.at + timedelta(days=335)
    assert connection.lapses_at == later.at + timedelta(days=365)


def test_lost_access_is_recorded_when_reauthorization_falls_due():
    connection = connection_in("active")
    connection.mark_reauth_due(at(70), "ACCESS_REVOKED", "invalid_grant")
    assert connection.state == "reauth_due"
    assert connection.last_error["code"] == "ACCESS_REVOKED"


def test_reminders_and_lapse_keep_the_connection_waiting_for_the_owner():
    connection = connection_in("reauth_due")
    for days_left in (30, 7, 1):
        connection.remind_reauthorization(at(80), days_left)
    connection.lapse(at(81))
    assert connection.state == "reauth_due"
    assert connection.reminders_sent == [30, 7, 1]
    assert connection.last_error["code"] == "REAUTHORIZATION_REQUIRED"


def test_invitation_expiry_disconnects_with_its_reason():
    connection = connection_in("invited")
    connection.expire_invitation(at(60 * 24 * 14))
    assert connection.state == "disconnected"
    assert connection.disconnect_reason == "invitation_expired"
    assert connection.last_error["code"] == "INVITATION_EXPIRED"


@pytest.mark.parametrize("state", ["owner_pending", "api_authorized", "active", "disconnected"])
def test_invitation_does_not_expire_once_the_owner_acted(state: str):
    connection = connection_in(state)
    with pytest.raises(InvalidTransition):
        connection.expire_invitation(at(60 * 24 * 14))
    assert connection.state == state


def test_disconnect_closes_any_open_consent_window():
    connection = connection_in("owner_pending")
    connection.disconnect(at(5), "integrator_request")
    assert connection.state == "disconnected"
    assert connection.disconnect_reason == "integrator_request"
    assert connection.authorization is None
    assert connection.allowed_actions == []


def test_every_event_keeps_its_stored_topic_and_its_webhook_type():
    """Stored events name their class by topic: renaming one would strand history."""
    from eventsourcing.utils import get_topic, resolve_topic

    from domain.connection import EVENT_TYPES
    from tests.contract import EVENT_TOPICS

    assert {get_topic(cls): kind for cls, kind in EVENT_TYPES.items()} == EVENT_TOPICS
    for topic in EVENT_TOPICS:
        assert get_topic(resolve_topic(topic)) == topic


def _scribble(value: Any) -> None:
    """Changes every list and dict inside `value`, however deep."""
    if isinstance(value, list):
        value.append("scribbled")
    if isinstance(value, dict):
        value["scribbled"] = True
    for item in value.values() if isinstance(value, dict) else value:
        if isinstance(item, list | dict | tuple):
            _scribble(item)


@pytest.mark.parametrize("state", ["invited", "active", "reauth_due", "disconnected"])
def test_a_copy_is_the_same_connection_and_a_change_to_it_never_reaches_the_original(state):
    # The aggregate cache hands each command and read a copy (ConnectionsApp): whatever
    # happens to the copy, the cached connection stays as it was.
    original = connection_in(state, requires_advertising=True)
    before = observable(original)
    copied = copy.deepcopy(original)
    assert type(copied) is Connection
    assert vars(copied) == vars(original)
    for value in vars(copied).values():
        if isinstance(value, list | dict | tuple):
            _scribble(value)
    if copied.state != "disconnected":
        fire(copied, "disconnect", 99)
    assert observable(original) == before

import json

import pytest

from domain.errors import (
    API_LEVEL,
    CATALOGUE,
    PERMISSION_LEVELS,
    REQUIRED_SC_PERMISSIONS,
    SELLER_FACING,
    WHO_ACTS,
    entry,
    permission_differences,
)
from tests import contract

SPEC_SELLER_FACING = contract.SELLER_FACING_CODES
SPEC_API_LEVEL_STATUS = contract.API_LEVEL_STATUS

SELLER_FACING_STATUS_EXCEPTIONS = {
    "AMAZON_UNAVAILABLE": 503,
    "SELLING_PARTNER_ALREADY_CONNECTED": 409,
    "SELLING_PARTNER_MISMATCH": 409,
    "API_AUTHORIZATION_REQUIRED": 409,
    "INTERNAL_ERROR": 500,
    # Amazon refused the integrator's credentials: a failing upstream, not the seller's input.
    "APP_CREDENTIALS_INVALID": 502,
}


def test_every_spec_code_has_seller_facing_message_and_ordered_remediation():
    for code in SPEC_SELLER_FACING + tuple(SPEC_API_LEVEL_STATUS):
        found = CATALOGUE[code]
        assert found.code == code
        assert found.title.strip()
        assert found.message.strip()
        assert isinstance(found.remediation, tuple) and found.remediation
        assert all(step.strip() for step in found.remediation)


def test_seller_facing_codes_are_listed_in_the_spec_order():
    assert SELLER_FACING == SPEC_SELLER_FACING


def test_api_level_codes_are_listed_after_the_seller_facing_ones():
    assert API_LEVEL == tuple(SPEC_API_LEVEL_STATUS)
    assert tuple(CATALOGUE) == SPEC_SELLER_FACING + tuple(SPEC_API_LEVEL_STATUS)


def test_who_acts_is_always_a_known_party():
    assert {found.who_acts for found in CATALOGUE.values()} <= set(WHO_ACTS)


@pytest.mark.parametrize("code, status", SPEC_API_LEVEL_STATUS.items())
def test_api_level_errors_use_their_http_status(code, status):
    assert CATALOGUE[code].http_status == status


def test_seller_facing_errors_are_422_unless_documented_otherwise():
    for code in SELLER_FACING:
        expected = SELLER_FACING_STATUS_EXCEPTIONS.get(code, 422)
        assert CATALOGUE[code].http_status == expected, code


def test_amazon_outage_is_retryable_and_waits_on_amazon():
    found = CATALOGUE["AMAZON_UNAVAILABLE"]
    assert found.retryable and found.who_acts == "amazon"


def test_api_authorization_required_is_the_owners_move():
    assert CATALOGUE["API_AUTHORIZATION_REQUIRED"].who_acts == "owner"


def test_retryable_api_errors_are_the_transient_ones():
    retryable = {code for code in API_LEVEL if CATALOGUE[code].retryable}
    assert retryable == {
        "VERSION_CONFLICT",
        "RATE_LIMITED",
        "SERVICE_UNAVAILABLE",
        "REQUEST_TIMEOUT",
    }


def test_unknown_code_falls_back_to_internal_error():
    assert entry("NO_SUCH_CODE") is CATALOGUE["INTERNAL_ERROR"]
    assert entry("") is CATALOGUE["INTERNAL_ERROR"]


def test_known_code_returns_its_own_entry():
    assert entry("NOT_PRIMARY_OWNER") is CATALOGUE["NOT_PRIMARY_OWNER"]


def test_channeladvisor_api_authorization_message_is_quoted_verbatim():
    found = CATALOGUE["API_AUTHORIZATION_REQUIRED"]
    assert found.source == "ChannelAdvisor"
    assert found.source_message == (
        "API Authorization Status must be complete before Seller Central Authorization "
        "may be started"
    )


@pytest.mark.parametrize(
    "code, source, source_message",
    [
        (
            "NOT_PRIMARY_OWNER",
            "PayHelm",
            "You must be the primary owner of a Professional selling account to take "
            "advantage of this integration.",
        ),
        (
            "NOT_PROFESSIONAL_ACCOUNT",
            "Codisto",
            "The account you are connecting to is not a Professional Amazon seller account.",
        ),
        (
            "TOKEN_EXCHANGE_FAILED",
            "Perpetua",
            "Failed to retrieve refresh token. Please try again.",
        ),
        (
            "SELLING_PARTNER_ALREADY_CONNECTED",
            "Perpetua",
            "This account is already in use. Please Try Again.",
        ),
        (
            "SELLER_CENTRAL_AUTHORIZATION_FAILED",
            "ChannelAdvisor",
            "Error: Seller Central Authorization failed. Please update authorization.",
        ),
        ("REAUTHORIZATION_REQUIRED", "Perpetua", "We no longer have access to the SP API"),
        ("INTERNAL_ERROR", "Codisto", "An error has occurred"),
    ],
)
def test_source_messages_quote_the_source_product_verbatim(code, source, source_message):
    found = CATALOGUE[code]
    assert (found.source, found.source_message) == (source, source_message)


def test_source_and_source_message_come_together():
    for found in CATALOGUE.values():
        assert (found.source is None) == (found.source_message is None), found.code


def test_api_level_errors_have_no_source_product():
    assert all(CATALOGUE[code].source is None for code in API_LEVEL)


def test_internal_error_tells_what_support_needs_to_escalate():
    steps = " ".join(CATALOGUE["INTERNAL_ERROR"].remediation)
    assert "merchant ID" in steps
    assert "time zone" in steps
    assert CATALOGUE["INTERNAL_ERROR"].retryable


def test_seller_central_failure_says_feeds_are_not_affected():
    assert "NOT affected" in CATALOGUE["SELLER_CENTRAL_AUTHORIZATION_FAILED"].message


def test_not_primary_owner_explains_how_to_find_the_owner():
    first_step = CATALOGUE["NOT_PRIMARY_OWNER"].remediation[0]
    assert "Settings > User Permissions" in first_step
    assert "Primary" in first_step


def test_as_dict_is_json_ready_with_remediation_as_a_list():
    as_dict = CATALOGUE["INTERNAL_ERROR"].as_dict()
    assert list(as_dict) == [
        "code",
        "title",
        "message",
        "remediation",
        "who_acts",
        "retryable",
        "http_status",
        "source_message",
        "source",
        "recognised_from",
        "shown_on",
    ]
    assert isinstance(as_dict["remediation"], list)
    assert json.loads(json.dumps(as_dict)) == as_dict


def test_required_permissions_use_known_levels():
    assert set(REQUIRED_SC_PERMISSIONS.values()) <= set(PERMISSION_LEVELS)


def test_agreements_and_user_permissions_must_be_none():
    assert REQUIRED_SC_PERMISSIONS["settings_agreements_amendments"] == "none"
    assert REQUIRED_SC_PERMISSIONS["settings_user_permissions"] == "none"


def test_view_is_required_where_view_and_edit_is_not_offered():
    assert REQUIRED_SC_PERMISSIONS["business_reports"] == "view"
    assert REQUIRED_SC_PERMISSIONS["payments"] == "view"
    assert REQUIRED_SC_PERMISSIONS["inventory"] == "view_and_edit"


def test_permission_differences_is_empty_for_the_exact_matrix():
    assert permission_differences(dict(REQUIRED_SC_PERMISSIONS)) == {}


def test_permission_differences_finds_exactly_the_wrong_categories():
    granted = dict(REQUIRED_SC_PERMISSIONS)
    granted["pricing"] = "view"
    granted["settings_user_permissions"] = "view_and_edit"
    granted["orders"] = "admin"  # more than required is wrong too
    assert permission_differences(granted) == {
        "pricing": {"required": "view_and_edit", "granted": "view"},
        "settings_user_permissions": {"required": "none", "granted": "view_and_edit"},
        "orders": {"required": "view_and_edit", "granted": "admin"},
    }


def test_missing_category_counts_as_none():
    granted = dict(REQUIRED_SC_PERMISSIONS)
    del granted["inventory"]
    del granted["settings_agreements_amendments"]  # "none" is required there anyway
    assert permission_differences(granted) == {
        "inventory": {"required": "view_and_edit", "granted": "none"},
    }


def test_unknown_categories_are_ignored():
    granted = dict(REQUIRED_SC_PERMISSIONS, gift_options="admin")
    assert permission_differences(granted) == {}


def test_nothing_granted_lists_every_category_that_needs_access():
    assert set(permission_differences({})) == {
        category for category, level in REQUIRED_SC_PERMISSIONS.items() if level != "none"
    }


def test_every_entry_states_what_it_is_recognised_from_and_where_the_owner_sees_it():
    for found in CATALOGUE.values():
        assert len(found.recognised_from) > 20, found.code
        assert found.shown_on in ("amazon", "service"), found.code


def test_causes_amazon_shows_on_its_own_page_are_named_in_the_expired_windows_guide():
    stopped = {c for c, e in CATALOGUE.items() if e.shown_on == "amazon"}
    assert stopped == {"NOT_PRIMARY_OWNER", "NOT_PROFESSIONAL_ACCOUNT", "ACCOUNT_SETUP_INCOMPLETE"}
    last_step = CATALOGUE["AUTHORIZATION_EXPIRED"].remediation[-1]
    for code in stopped:
        assert f"{CATALOGUE[code].title} ({code})" in last_step


def test_the_owner_rule_names_the_permission_amazon_now_accepts():
    # amzn/selling-partner-api-models#4642: a secondary user with "Manage Authorized
    # Partners" may authorize.
    found = CATALOGUE["NOT_PRIMARY_OWNER"]
    assert "Manage Authorized Partners" in found.message
    assert any("Manage Authorized Partners" in step for step in found.remediation)

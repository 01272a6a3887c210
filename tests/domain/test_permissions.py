"""The Seller Central user's permission matrix (domain/permissions.py) and what differs."""

from domain.permissions import PERMISSION_LEVELS, REQUIRED_SC_PERMISSIONS, permission_differences


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

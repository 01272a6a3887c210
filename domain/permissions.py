"""The Seller Central user's permissions: the matrix it must be given, and what differs.

ChannelAdvisor's matrix: View & Edit everywhere, View where View & Edit is not offered, and
None for the two categories that would let the user sign agreements or manage users.
"""

from __future__ import annotations

PERMISSION_LEVELS: tuple[str, ...] = ("none", "view", "view_and_edit", "admin")

REQUIRED_SC_PERMISSIONS: dict[str, str] = {
    "inventory": "view_and_edit",
    "pricing": "view_and_edit",
    "orders": "view_and_edit",
    "reports": "view_and_edit",
    "advertising": "view_and_edit",
    "payments": "view",  # reports-like: Seller Central offers no edit level
    "brand": "view_and_edit",
    "business_reports": "view",  # reports-like: Seller Central offers no edit level
    "fba_inventory": "view_and_edit",
    "settings_account_info": "view_and_edit",
    "settings_shipping": "view_and_edit",
    "settings_notification_preferences": "view_and_edit",
    "settings_agreements_amendments": "none",
    "settings_user_permissions": "none",
}


def permission_differences(granted: dict[str, str]) -> dict[str, dict[str, str]]:
    """Categories whose granted level is not exactly the required one.

    More than required counts too: the matrix asks for exactly these levels. A category
    missing from `granted` means "none"; categories we do not check are ignored.
    """
    differences = {}
    for category, required in REQUIRED_SC_PERMISSIONS.items():
        level = granted.get(category, "none")
        if level != required:
            differences[category] = {"required": required, "granted": level}
    return differences

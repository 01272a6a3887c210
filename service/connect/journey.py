"""Which page the owner sees for a connection, and what it says: one view per state.

Facts come from the source documents: only the primary owner of a Professional account
may authorize (PayHelm), the Amazon window lasts 15 minutes and support needs the merchant
ID and the time, with time zone, of the latest attempt (Codisto), the Seller Central user
and its permission matrix, and the 60 minutes or more its acceptance can take
(ChannelAdvisor), and the yearly re-confirmation (Perpetua).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain import lifecycle as lc
from domain.errors import entry
from domain.marketplaces import REGIONS
from domain.permissions import REQUIRED_SC_PERMISSIONS

# Seller Central's own labels for the categories `confirm_seller_central_user` checks.
CATEGORY_LABELS = {
    "inventory": "Inventory",
    "pricing": "Pricing",
    "orders": "Orders",
    "reports": "Reports",
    "advertising": "Advertising",
    "payments": "Payments",
    "brand": "Brand",
    "business_reports": "Business Reports",
    "fba_inventory": "FBA Inventory",
    "settings_account_info": "Settings: Account Info",
    "settings_shipping": "Settings: Shipping",
    "settings_notification_preferences": "Settings: Notification Preferences",
    "settings_agreements_amendments": "Settings: Agreements/Amendments",
    "settings_user_permissions": "Settings: User Permissions",
}
LEVEL_LABELS = {"none": "None", "view": "View", "view_and_edit": "View & Edit", "admin": "Admin"}
ROLE_LABELS = {"owner": "owner", "agency": "agency", "accountant": "accountant", "staff": "staff"}


@dataclass(frozen=True)
class Tenant:
    display_name: str
    support_email: str | None


@dataclass
class View:
    """What one page shows; `step` picks the template's section."""

    step: str
    title: str
    status: int = 200
    refresh_seconds: int | None = None  # the waiting page reloads itself (no script)
    error: dict[str, Any] | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def when(at: datetime | None) -> str | None:
    """A time a person reads and can quote to support, with its time zone."""
    return None if at is None else at.strftime("%d %B %Y, %H:%M UTC").lstrip("0")


def marketplace_names(c: Any) -> list[str]:
    names = REGIONS.get(c.region, {})
    return [names.get(m, m) for m in c.marketplace_ids]


def support_block(c: Any) -> dict[str, Any]:
    return {
        "merchant_id": c.selling_partner_id,
        "last_attempt_at": when(c.last_attempt_at),
        "connection_id": str(c.id),
    }


def error_block(c: Any) -> dict[str, Any] | None:
    if not c.last_error:
        return None
    item = entry(c.last_error["code"])
    differences = c.last_error.get("differences") or {}
    return {
        "code": item.code,
        "title": item.title,
        "message": item.message,
        "remediation": list(item.remediation),
        "who_acts": item.who_acts,
        "differences": [
            {
                "category": CATEGORY_LABELS.get(k, k),
                "required": LEVEL_LABELS.get(v.get("required"), v.get("required")),
                "granted": LEVEL_LABELS.get(v.get("granted"), v.get("granted")),
            }
            for k, v in differences.items()
            if isinstance(v, dict)
        ],
    }


def permission_checklist(required: dict[str, str] | None = None) -> list[dict[str, str]]:
    matrix = required or REQUIRED_SC_PERMISSIONS
    return [
        {"key": k, "category": CATEGORY_LABELS.get(k, k), "level": LEVEL_LABELS[v]}
        for k, v in matrix.items()
    ]


def view_of(c: Any, seller_central_user_email: str) -> View:
    state = c.state
    if state == lc.DISCONNECTED:
        return View("ended", "This link no longer works", status=410)
    if state in (lc.INVITED, lc.OWNER_PENDING):
        failed = error_block(c)
        return View(
            "start",
            "Your last attempt did not finish" if failed else "Connect your Amazon account",
            error=failed,
        )
    if state == lc.API_AUTHORIZED:
        if c.requires_seller_central_user:
            return View(
                "seller_central",
                "Amazon access confirmed: one more step",
                error=error_block(c),
                facts={
                    "user_email": seller_central_user_email,
                    "checklist": permission_checklist(),
                },
            )
        return View("authorized", "Amazon access confirmed")
    if state == lc.SC_USER_INVITED:
        sc = c.seller_central or {}
        return View(
            "seller_central_waiting",
            "Waiting for the Seller Central user",
            refresh_seconds=60,
            error=error_block(c),
            facts={
                "user_email": sc.get("user_email", seller_central_user_email),
                "checklist": permission_checklist(sc.get("required_permissions")),
                "expires_at": when(sc.get("invite_expires_at")),
            },
        )
    if state == lc.PERMISSIONS_VERIFIED:
        return View("verified", "Permissions confirmed")
    if state == lc.REAUTH_DUE:
        return View(
            "reauth",
            "Amazon asks you to confirm access again",
            error=error_block(c),
            facts={"lapses_at": when(c.lapses_at)},
        )
    return View("active", "Your Amazon account is connected", facts={})


def advertising_due(c: Any) -> bool:
    """The Ads step shows once SP-API access exists and until Ads is connected."""
    return (
        c.requires_advertising
        and c.advertising != "connected"
        and c.state in (lc.API_AUTHORIZED, lc.SC_USER_INVITED, lc.PERMISSIONS_VERIFIED, lc.ACTIVE)
    )

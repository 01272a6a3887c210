"""When a connection's Amazon access may be used by the integrator's backend (SPEC §9).

From the SP-API authorization until a lapse or a revocation: the Seller Central track
(its invite, its failures, its expiry) never takes SP-API access away (ChannelAdvisor:
"SC failure must not break feeds"). The Ads API needs its own track to be connected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain import lifecycle as lc
from domain.exceptions import DomainError

SP_API, ADS = "sp-api", "ads"
APIS: tuple[str, ...] = (SP_API, ADS)
AUTHORIZED_STATES = lc.AUTHORIZED_STATES  # the lifecycle says which they are


class AccessRefused(DomainError):
    """The connection's state, or Amazon, does not allow its use now (the catalogue gives
    each code's status: 409 for the state's reasons, 503 when Amazon does not answer)."""


def refusal(c: Any, api: str, at: datetime) -> tuple[str, str] | None:
    """(catalogue code, detail) when `api` may not be used now; None when it may."""
    if c.state == lc.DISCONNECTED:
        return (
            "API_AUTHORIZATION_REQUIRED",
            "This connection is disconnected; connect the seller again with a new connection.",
        )
    if c.state not in AUTHORIZED_STATES or not c.refresh_token_encrypted:
        return (
            "API_AUTHORIZATION_REQUIRED",
            "The owner has not authorized the Selling Partner API for this connection yet.",
        )
    if c.access_revoked_at is not None:
        return (
            "ACCESS_REVOKED",
            "Amazon refused this connection's authorization; the owner must re-authorize.",
        )
    if c.lapses_at is not None and at >= c.lapses_at:
        return (
            "REAUTHORIZATION_REQUIRED",
            "Amazon's yearly re-authorization lapsed; the owner must re-authorize.",
        )
    if api == ADS and (c.advertising != "connected" or not c.ads_refresh_token_encrypted):
        return (
            "API_AUTHORIZATION_REQUIRED",
            f"The Amazon Ads track of this connection is {c.advertising}, not connected.",
        )
    return None


def advertising_profiles(c: Any) -> list[dict[str, Any]]:
    """Every Ads profile of the connection's marketplaces (the first one alone for
    connections made before profiles were kept)."""
    profiles = c.advertising_profiles
    if profiles:
        return [dict(p) for p in profiles]
    if c.advertising_profile_id:
        return [{"profile_id": c.advertising_profile_id}]
    return []


def chosen_profile(c: Any, profile_id: str | None) -> dict[str, Any] | None:
    """The profile `profile_id` names (default: the first), or None when it names none."""
    profiles = advertising_profiles(c)
    if profile_id is None:
        return profiles[0] if profiles else None
    return next((p for p in profiles if p["profile_id"] == profile_id), None)

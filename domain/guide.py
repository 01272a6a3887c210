"""What happens next for a connection: who acts, and the ordered steps, in seller terms."""

from __future__ import annotations

from typing import Any

from domain import lifecycle as lc
from domain.errors import entry

_STEPS: dict[str, list[str]] = {
    lc.INVITED: [
        "The primary owner of the Amazon seller account opens the connection link from the "
        "invitation e-mail (only the primary owner of a Professional account can authorize).",
        "They sign in to Amazon Seller Central with their own login and approve the request.",
    ],
    lc.OWNER_PENDING: [
        "The owner finishes the Amazon consent page within 15 minutes of opening it; after "
        "that the link expires and must be started again.",
        "Amazon sends the owner back here; the account checks run automatically.",
    ],
    lc.API_AUTHORIZED: [
        "API authorization is complete: order and product feeds can start now.",
    ],
    lc.SC_USER_INVITED: [
        "Wait for the integrator's Seller Central user to accept the invitation; this can "
        "take 60 minutes or more.",
        "In Seller Central open Settings > User Permissions, confirm the new user and set "
        "its permissions exactly as listed in required_permissions.",
        "Then the integrator confirms the permissions (confirm_seller_central_user).",
    ],
    lc.PERMISSIONS_VERIFIED: [
        "The Seller Central user is ready; the service activates the connection."
    ],
    lc.ACTIVE: ["Nothing to do: the account is fully connected."],
    lc.REAUTH_DUE: [
        "Amazon asks sellers to re-confirm a developer's access every 12 months.",
        "The primary owner clicks 'Reconnect Selling Partner API' (start_reauthorization), "
        "signs in to Amazon with the same seller account and approves again.",
    ],
    lc.DISCONNECTED: [
        "This connection has ended. Create a new connection to connect the account again."
    ],
}


def next_steps(connection: Any) -> list[str]:
    steps = list(_STEPS[connection.state])
    if connection.state == lc.API_AUTHORIZED:
        if connection.requires_seller_central_user:
            steps.append(
                "Invite the integrator's Seller Central user: the owner adds the user e-mail "
                "in Seller Central > Settings > User Permissions (invite_seller_central_user)."
            )
        else:
            steps.append("No Seller Central user is required: activate the connection.")
    if (
        connection.requires_advertising
        and connection.advertising != "connected"
        and (connection.state not in (lc.INVITED, lc.OWNER_PENDING, lc.DISCONNECTED))
    ):
        steps.append(
            "Connect Amazon Ads: the owner signs in to Amazon Ads with an account that has "
            "advertising enabled for this marketplace (start_advertising_authorization)."
        )
    return steps


def who_acts(connection: Any) -> str:
    if connection.last_error and connection.state not in (lc.ACTIVE, lc.DISCONNECTED):
        return entry(connection.last_error["code"]).who_acts
    return lc.WHO_ACTS_NEXT[connection.state]

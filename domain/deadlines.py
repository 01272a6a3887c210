"""Deadlines: what the lifecycle does by itself when time passes and nobody calls.

Pure functions of a connection and an instant. `next_due_at` feeds the read model's index
("what is due by T"); `due_now` names the one command to fire, if any. Firing a command
changes the connection so that the same deadline is never due twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain import lifecycle as lc

REMINDER_DAYS: tuple[int, ...] = (30, 7, 1)


def _candidates(c: Any) -> list[tuple[datetime, str, dict[str, Any]]]:
    """(when, trigger, arguments) of every deadline the connection has now."""
    found: list[tuple[datetime, str, dict[str, Any]]] = []
    if c.state == lc.INVITED and c.invitation_expires_at:
        found.append((c.invitation_expires_at, "expire_invitation", {}))
    if c.state == lc.OWNER_PENDING and c.authorization:
        found.append(
            (
                c.authorization["expires_at"],
                "fail_authorization",
                {
                    "code": "AUTHORIZATION_EXPIRED",
                    "detail": "The owner did not finish the Amazon consent within its window.",
                },
            )
        )
    if c.state == lc.SC_USER_INVITED and c.seller_central:
        found.append((c.seller_central["invite_expires_at"], "expire_seller_central_invite", {}))
    if c.state == lc.ACTIVE and c.reauth_due_at:
        found.append((c.reauth_due_at, "mark_reauth_due", {}))
    if c.state == lc.REAUTH_DUE and c.lapses_at:
        if c.authorization:
            found.append(
                (
                    c.authorization["expires_at"],
                    "fail_reauthorization",
                    {
                        "code": "AUTHORIZATION_EXPIRED",
                        "detail": "The owner did not finish the re-authorization in time.",
                    },
                )
            )
        lapsed = c.last_error and c.last_error.get("code") == "REAUTHORIZATION_REQUIRED"
        if not lapsed:
            # Once lapsed, reminders that were never sent (a run skipped their days) would
            # only say "will lapse" about a connection that already has.
            for days in REMINDER_DAYS:
                if days not in c.reminders_sent:
                    found.append(
                        (
                            c.lapses_at - timedelta(days=days),
                            "remind_reauthorization",
                            {"days_left": days},
                        )
                    )
            found.append((c.lapses_at, "lapse", {}))
    return found


def next_due_at(c: Any) -> datetime | None:
    candidates = _candidates(c)
    return min(when for when, _, _ in candidates) if candidates else None


def due_now(c: Any, now: datetime) -> tuple[str, dict[str, Any]] | None:
    """The earliest deadline that has passed by `now`, as (trigger, arguments).

    Reminders whose day has passed but whose lapse has too are skipped: a connection
    that lapsed is told it lapsed, not that it will lapse.
    """
    due = sorted((w, t, a) for w, t, a in _candidates(c) if w <= now)
    if not due:
        return None
    if any(t == "lapse" for _, t, _ in due):
        reminders = [x for x in due if x[1] == "remind_reauthorization"]
        due = [x for x in due if x not in reminders] or due
    _, trigger, arguments = due[0]
    return trigger, arguments

"""A whole year of timers over HTTP: the settable clock walks day by day while the
deadline runners and the refresh-health check run, and the history shows each thing once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from service.container import build
from service.workers.deadlines import ACTOR, Deadlines, RefreshHealth
from tests.conftest import START, LiveService, consent, new_connection, start_service

DAY = timedelta(days=1)


class Runner:
    """What one worker process does each pass: fire deadlines, then check refresh tokens."""

    def __init__(self, services: Any) -> None:
        self.deadlines = Deadlines(services)
        self.health = RefreshHealth(services, interval=DAY)

    def run_once(self, now: datetime) -> int:
        return self.deadlines.run_once(now) + self.health.run_once(now)


def tick(runners: list[Runner], now: datetime) -> int:
    """Every runner at once, each in its own thread; returns the commands recorded."""
    if len(runners) == 1:
        return runners[0].run_once(now)
    barrier = threading.Barrier(len(runners))
    counts, errors = [0] * len(runners), []

    def run(i: int) -> None:
        try:
            barrier.wait()
            counts[i] = runners[i].run_once(now)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(runners))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return sum(counts)


def authorized(api: httpx.Client, outcome: str = "approve") -> str:
    cid = new_connection(api, requires_seller_central_user=False)["id"]
    started = api.post(f"/v1/connections/{cid}/start_authorization").json()
    assert consent(api, started["consent_url"], outcome).status_code == 200
    assert api.post(f"/v1/connections/{cid}/activate").json()["state"] == "active"
    return cid


def timers(api: httpx.Client, cid: str) -> list[tuple[str, str]]:
    """(type, day) of what the timers recorded; every other event has another actor."""
    events = api.get(f"/v1/connections/{cid}/events", params={"limit": 500}).json()["data"]
    found = []
    for e in events:
        if e["actor"] != ACTOR:
            continue
        assert e["request_id"], e
        day = (datetime.fromisoformat(e["occurred_at"]) - START) / DAY
        found.append((e["type"].removeprefix("connection."), f"{day:g}"))
    return found


def state(api: httpx.Client, cid: str) -> tuple[str, str | None]:
    c = api.get(f"/v1/connections/{cid}").json()
    return c["state"], (c["last_error"] or {}).get("code")


def live_a_year(live: LiveService, api: httpx.Client, runners: list[Runner]) -> None:
    window = new_connection(api)["id"]
    api.post(f"/v1/connections/{window}/start_authorization")
    yearly = authorized(api)
    revoked = authorized(api, "ACCESS_REVOKED")

    # Quarter of an hour later: the consent window closed, and the revoked token is found.
    assert tick(runners, START + timedelta(minutes=16)) == 2
    assert state(api, window) == ("invited", "AUTHORIZATION_EXPIRED")
    assert state(api, revoked) == ("reauth_due", "ACCESS_REVOKED")
    assert state(api, yearly) == ("active", None)

    recorded_on = {}
    for day in range(1, 366):
        live.clock.set(START + day * DAY)
        recorded_on[day] = tick(runners, START + day * DAY)
        assert tick(runners, START + day * DAY) == 0, f"day {day} fired twice"
    # The window's invitation ends on day 14; each yearly connection: due on day 335 (with
    # the 30-day reminder), reminders on days 358 and 364, the lapse on day 365.
    assert {d: n for d, n in recorded_on.items() if n} == {14: 1, 335: 3, 358: 2, 364: 2, 365: 2}

    assert state(api, window) == ("disconnected", "INVITATION_EXPIRED")
    assert timers(api, window) == [("authorization_failed", "0.0111111"), ("disconnected", "14")]
    assert timers(api, yearly) == [
        ("reauth_due", "335"),
        ("reauth_reminder", "335"),
        ("reauth_reminder", "358"),
        ("reauth_reminder", "364"),
        ("reauthorization_required", "365"),
    ]
    assert timers(api, revoked) == [
        ("reauth_due", "0.0111111"),
        ("reauth_reminder", "335"),
        ("reauth_reminder", "358"),
        ("reauth_reminder", "364"),
        ("reauthorization_required", "365"),
    ]
    events = api.get(f"/v1/connections/{yearly}/events").json()["data"]
    reminders = [e["data"]["days_left"] for e in events if e["type"].endswith("reminder")]
    assert reminders == [30, 7, 1]

    # The lapse tells the owner exactly how to reconnect.
    guide = api.get(f"/v1/connections/{yearly}/guide").json()
    assert (guide["state"], guide["who_acts"]) == ("reauth_due", "owner")
    assert guide["last_error"]["code"] == "REAUTHORIZATION_REQUIRED"
    assert guide["last_error"]["remediation"][0].startswith("The primary account owner")
    assert any("start_reauthorization" in step for step in guide["next_steps"])
    assert guide["allowed_actions"] == ["start_reauthorization", "disconnect"]

    # The owner re-authorizes on day 366: active again, on a new 365-day clock.
    reauthorized_at = START + 366 * DAY
    live.clock.set(reauthorized_at)
    started = api.post(f"/v1/connections/{yearly}/start_reauthorization").json()
    assert consent(api, started["consent_url"]).json()["state"] == "active"
    c = api.get(f"/v1/connections/{yearly}").json()
    assert (c["state"], c["last_error"]) == ("active", None)
    assert datetime.fromisoformat(c["reauth_due_at"]) == reauthorized_at + 335 * DAY

    assert tick(runners, reauthorized_at + 334 * DAY) == 0
    assert tick(runners, reauthorized_at + 335 * DAY) == 2  # due again, with its reminder
    assert timers(api, yearly)[5:] == [("reauth_due", "701"), ("reauth_reminder", "701")]
    assert state(api, yearly) == ("reauth_due", None)


def test_a_connection_lives_a_whole_year_of_deadlines(live, api):
    live_a_year(live, api, [Runner(live.services)])


@pytest.fixture
def live_postgres(pg_schema_url: str) -> Iterator[LiveService]:
    service = start_service(pg_schema_url)
    yield service
    service.stop()


def test_two_runners_on_postgres_live_the_same_year_without_firing_anything_twice(live_postgres):
    other = build(live_postgres.services.settings, clock=live_postgres.clock)
    try:
        with live_postgres.client() as api:
            live_a_year(live_postgres, api, [Runner(live_postgres.services), Runner(other)])
    finally:
        other.close()

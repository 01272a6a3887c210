"""Deadlines and refresh health against each real store, the clock moved by hand."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.amazon import AmazonClient, AmazonSettings
from adapters.clock import SettableClock
from adapters.tables.refresh_checks import RefreshChecksTables
from domain.connection import Connection
from service.api.caller import Caller
from service.connections.presenters import event_json
from service.container import Services, build
from service.workers.deadlines import (
    ACTOR,
    Deadlines,
    RefreshHealth,
    parse_rfc3339,
    run_deadlines_cli,
)
from tests.conftest import SECRET_KEY, START, LiveService, consent, free_port, make_settings

INTEGRATOR = Caller(tenant_id="tenant_a", actor="integrator")
OWNER = Caller(tenant_id="tenant_a", actor="owner")
DAY = timedelta(days=1)


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    built = build(make_settings(database_url), clock=SettableClock(START))
    yield built
    built.close()


def invited(services: Services, **spec: Any) -> Connection:
    return services.connections.create(
        INTEGRATOR,
        owner_email="owner@example.com",
        region="na",
        marketplace_ids=["ATVPDKIKX0DER"],
        **spec,
    )


def act(services: Services, c: Connection, action: str, **body: Any) -> Connection:
    return services.connections.act(INTEGRATOR, str(c.id), action, body).connection


def authorized(services: Services, **spec: Any) -> Connection:
    """Through the consent without Amazon: the callback's effect, recorded directly."""
    c = act(services, invited(services, **spec), "start_authorization")
    c.complete_authorization(
        services.connections.context(OWNER),
        selling_partner_id=f"A{c.id.hex[:12].upper()}",
        refresh_token_encrypted=services.box.encrypt("Atzr|not-used"),
        durations=services.settings.durations,
    )
    services.connections.save(c)
    return c


def active(services: Services) -> Connection:
    return act(services, authorized(services, requires_seller_central_user=False), "activate")


def history(services: Services, c: Connection) -> list[dict[str, Any]]:
    return [event_json(e) for e in services.connections.history(INTEGRATOR, str(c.id))]


def fired(services: Services, c: Connection) -> list[str]:
    """The types the timers recorded, asserting each came from the deadlines actor."""
    events = [e for e in history(services, c) if e["actor"] == ACTOR]
    assert all(e["request_id"] for e in events)
    return [e["type"].removeprefix("connection.") for e in events]


def load(services: Services, c: Connection) -> Connection:
    return services.app.load(c.tenant_id, str(c.id))


# ------------------------------------------------------------------------- deadlines


def test_an_expired_consent_window_returns_the_connection_to_invited_once(services):
    c = act(services, invited(services), "start_authorization")
    deadlines = Deadlines(services)

    assert deadlines.run_once(START + timedelta(minutes=14, seconds=59)) == 0
    assert deadlines.run_once(START + timedelta(minutes=15)) == 1
    assert deadlines.run_once(START + timedelta(minutes=15)) == 0

    after = load(services, c)
    assert after.state == "invited"
    assert after.last_error["code"] == "AUTHORIZATION_EXPIRED"
    assert fired(services, c) == ["authorization_failed"]


def test_an_unanswered_invitation_disconnects_after_its_ttl_once(services):
    c = invited(services)
    deadlines = Deadlines(services)

    assert deadlines.run_once(START + 14 * DAY - timedelta(seconds=1)) == 0
    assert deadlines.run_once(START + 14 * DAY) == 1
    assert deadlines.run_once(START + 30 * DAY) == 0

    after = load(services, c)
    assert (after.state, after.disconnect_reason) == ("disconnected", "invitation_expired")
    assert after.last_error["code"] == "INVITATION_EXPIRED"
    assert fired(services, c) == ["disconnected"]


def test_an_unaccepted_seller_central_invite_expires_back_to_api_authorized(services):
    c = act(services, authorized(services), "invite_seller_central_user")
    Deadlines(services).run_once(START + 14 * DAY)
    Deadlines(services).run_once(START + 15 * DAY)

    after = load(services, c)
    assert after.state == "api_authorized"
    assert after.last_error["code"] == "SELLER_CENTRAL_INVITE_EXPIRED"
    assert fired(services, c) == ["seller_central_invite_expired"]


def test_the_yearly_clock_fires_reauth_due_three_reminders_and_the_lapse_each_once(services):
    c = active(services)
    deadlines = Deadlines(services)
    fired_on: dict[int, int] = {}
    for day in range(367):
        for _ in range(2):  # the second pass at one instant must change nothing
            count = deadlines.run_once(START + day * DAY)
            if count:
                fired_on[day] = fired_on.get(day, 0) + count

    assert fired_on == {335: 2, 358: 1, 364: 1, 365: 1}
    assert fired(services, c) == [
        "reauth_due",
        "reauth_reminder",
        "reauth_reminder",
        "reauth_reminder",
        "reauthorization_required",
    ]
    timers = [e for e in history(services, c) if e["actor"] == ACTOR]
    assert [e["data"].get("days_left") for e in timers] == [None, 30, 7, 1, None]
    after = load(services, c)
    assert after.state == "reauth_due"
    assert after.last_error["code"] == "REAUTHORIZATION_REQUIRED"


def test_an_unfinished_reauthorization_window_is_recorded_once(services):
    c = active(services)
    Deadlines(services).run_once(START + 335 * DAY)
    services.clock.set(START + 336 * DAY)
    act(services, c, "start_reauthorization")

    deadlines = Deadlines(services)
    assert deadlines.run_once(START + 336 * DAY + timedelta(minutes=15)) == 1
    assert deadlines.run_once(START + 336 * DAY + timedelta(minutes=16)) == 0

    after = load(services, c)
    assert after.state == "reauth_due"
    assert after.authorization is None
    assert after.last_error["code"] == "AUTHORIZATION_EXPIRED"


def test_configured_durations_move_the_deadlines(database_url):
    settings = make_settings(database_url, INVITATION_TTL="2d", AUTHORIZATION_WINDOW="5m")
    with_config = build(settings, clock=SettableClock(START))
    try:
        slow, quick = (
            invited(with_config),
            act(with_config, invited(with_config), "start_authorization"),
        )
        deadlines = Deadlines(with_config)
        assert deadlines.run_once(START + timedelta(minutes=5)) == 1
        assert (load(with_config, quick).state, load(with_config, slow).state) == (
            "invited",
            "invited",
        )
        assert deadlines.run_once(START + 2 * DAY - timedelta(seconds=1)) == 0
        assert deadlines.run_once(START + 2 * DAY) == 2
        assert {load(with_config, c).state for c in (slow, quick)} == {"disconnected"}
    finally:
        with_config.close()


def test_many_due_connections_are_fired_in_batches(services):
    connections = [invited(services) for _ in range(7)]
    assert Deadlines(services, batch=3).run_once(START + 14 * DAY) == 7
    assert {load(services, c).state for c in connections} == {"disconnected"}


def test_a_connection_that_cannot_be_fired_is_counted_and_the_others_still_fire(
    services, monkeypatch
):
    broken, fine = invited(services), invited(services)
    save = services.connections.save

    def failing_save(c: Connection) -> None:
        if c.id == broken.id:
            raise RuntimeError("disk full")
        save(c)

    monkeypatch.setattr(services.connections, "save", failing_save)
    deadlines = Deadlines(services, batch=1)
    assert deadlines.run_once(START + 14 * DAY) == 1
    assert deadlines.failed == 1
    assert (load(services, broken).state, load(services, fine).state) == (
        "invited",
        "disconnected",
    )


def test_a_run_that_skipped_the_reminder_days_reports_the_lapse_and_no_reminders(services):
    c = active(services)
    assert Deadlines(services).run_once(START + 400 * DAY) == 2
    assert fired(services, c) == ["reauth_due", "reauthorization_required"]


def test_two_runners_on_one_store_fire_nothing_twice(pg_schema_url):
    """Two processes' worth of parts (two builds, two pools) over one PostgreSQL schema."""
    clock = SettableClock(START)
    first = build(make_settings(pg_schema_url), clock=clock)
    second = build(make_settings(pg_schema_url), clock=clock)
    try:
        lives = [active(first) for _ in range(4)]
        waiting = [invited(first) for _ in range(4)]
        consenting = [act(first, invited(first), "start_authorization") for _ in range(4)]
        runners = [Deadlines(first, batch=5), Deadlines(second, batch=5)]
        total = sum(
            sum(race(runners, at))
            for at in [START + timedelta(minutes=20), *(START + d * DAY for d in range(1, 367))]
        )

        assert total == 4 * 5 + 4 * 1 + 4 * 2

        for c in lives:
            assert Counter(fired(first, c)) == {
                "reauth_due": 1,
                "reauth_reminder": 3,
                "reauthorization_required": 1,
            }
        for c in waiting:
            assert fired(first, c) == ["disconnected"]
        for c in consenting:
            assert fired(first, c) == ["authorization_failed", "disconnected"]
    finally:
        second.close()
        first.close()


def race(runners: list[Deadlines], at: Any) -> list[int]:
    """Runs every runner at the same instant, each in its own thread; what each fired."""
    barrier = threading.Barrier(len(runners))
    counts: list[int] = [0] * len(runners)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            counts[index] = runners[index].run_once(at)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(runners))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert [r.failed for r in runners] == [0] * len(runners)
    return counts


# ---------------------------------------------------------------------------- the CLI


def test_deadlines_run_fires_what_is_due_by_the_given_instant_and_exits(
    sqlite_url, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("SANDBOX", "1")
    setup = build(make_settings(sqlite_url), clock=SettableClock(START))
    c = invited(setup)
    setup.close()

    assert run_deadlines_cli("2026-01-19T08:59:59Z") == 0
    assert run_deadlines_cli("2026-01-19T10:00:00+01:00") == 0
    assert run_deadlines_cli("2026-01-19T09:00:00Z") == 0
    lines = [
        line
        for line in capsys.readouterr().err.strip().splitlines()
        if line.startswith(("deadlines:", "error:"))
    ]  # the summary, not the log lines
    assert lines == [
        "deadlines: fired 0 due by 2026-01-19T08:59:59Z",
        "deadlines: fired 1 due by 2026-01-19T09:00:00Z",
        "deadlines: fired 0 due by 2026-01-19T09:00:00Z",
    ]
    after = build(make_settings(sqlite_url))
    try:
        assert load(after, c).state == "disconnected"
    finally:
        after.close()


@pytest.mark.parametrize(
    "text", ["2026-01-19", "2026-01-19T09:00:00", "tomorrow", "", "2026-02-30T09:00:00Z"]
)
def test_deadlines_run_refuses_anything_but_an_rfc3339_instant(text, capsys):
    assert run_deadlines_cli(text) == 2
    assert "RFC 3339" in capsys.readouterr().err
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_rfc3339(text)


# ---------------------------------------------------------------------- refresh health


def consented(live: LiveService, api: Any, outcome: str) -> str:
    body = {
        "owner_email": "owner@example.com",
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        "requires_seller_central_user": False,
    }
    cid = api.post("/v1/connections", json=body).json()["id"]
    url = api.post(f"/v1/connections/{cid}/start_authorization").json()["consent_url"]
    assert consent(api, url, outcome).status_code == 200
    assert api.post(f"/v1/connections/{cid}/activate").json()["state"] == "active"
    return cid


def test_a_refused_refresh_token_moves_the_connection_to_reauth_due_once(live, api):
    revoked = consented(live, api, "ACCESS_REVOKED")
    fine = consented(live, api, "approve")
    health = RefreshHealth(live.services, interval=timedelta(hours=1))

    assert health.run_once(START) == 1
    assert health.checked == 2
    assert health.run_once(START + timedelta(minutes=30)) == 0
    assert health.checked == 0  # nothing is stale within the interval
    assert health.run_once(START + timedelta(hours=2)) == 0
    assert health.checked == 1  # only the active one is still watched

    gone = api.get(f"/v1/connections/{revoked}").json()
    assert (gone["state"], gone["last_error"]["code"]) == ("reauth_due", "ACCESS_REVOKED")
    assert "invalid_grant" in gone["last_error"]["detail"]
    events = api.get(f"/v1/connections/{revoked}/events").json()["data"]
    assert [(e["type"], e["actor"]) for e in events if e["actor"] == ACTOR] == [
        ("connection.reauth_due", ACTOR)
    ]
    assert api.get(f"/v1/connections/{fine}").json()["state"] == "active"


def test_amazon_being_down_warns_once_per_outage_and_changes_no_state(live, api):
    cid = consented(live, api, "approve")
    down = AmazonClient(AmazonSettings.sandbox(f"http://127.0.0.1:{free_port()}"))
    during_outage = RefreshHealth(live.services, interval=timedelta(hours=1), amazon=down)
    normally = RefreshHealth(live.services, interval=timedelta(hours=1))
    try:
        assert during_outage.run_once(START) == 1
        assert during_outage.run_once(START + 2 * timedelta(hours=1)) == 0
        assert during_outage.run_once(START + 4 * timedelta(hours=1)) == 0
        assert normally.run_once(START + 6 * timedelta(hours=1)) == 0  # Amazon is back
        assert RefreshChecksTables(live.services.tables).unavailable_since(cid) is None
        assert during_outage.run_once(START + 8 * timedelta(hours=1)) == 1  # a new outage
    finally:
        down.close()

    c = api.get(f"/v1/connections/{cid}").json()
    assert (c["state"], c["last_error"]) == ("active", None)
    events = api.get(f"/v1/connections/{cid}/events").json()["data"]
    warnings = [e for e in events if e["type"] == "connection.warning"]
    assert [(e["actor"], e["data"]["warning"]["code"]) for e in warnings] == [
        (ACTOR, "AMAZON_UNAVAILABLE"),
        (ACTOR, "AMAZON_UNAVAILABLE"),
    ]
    assert [e["occurred_at"] for e in warnings] == ["2026-01-05T09:00:00Z", "2026-01-05T17:00:00Z"]

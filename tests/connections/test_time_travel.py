"""Reading a connection as it was: `?version=n` and `?as_of=<RFC 3339>` replay the events,
while the server's clock is moved between the steps of a connection's life."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from domain.permissions import REQUIRED_SC_PERMISSIONS
from tests.conftest import START, consent, new_connection

PROBLEM_JSON = "application/problem+json"


def at(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def read(api: httpx.Client, cid: str, **params: Any) -> httpx.Response:
    return api.get(f"/v1/connections/{cid}", params=params)


def assert_client_problem(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["code"] and body["detail"].strip()
    return body


def test_every_version_and_every_moment_reads_as_it_was(live, api):
    snapshots: dict[int, dict[str, Any]] = {}

    def step(advance: timedelta, do) -> None:
        live.clock.advance(advance)
        before = max(snapshots, default=0)
        do()
        now = read(api, cid).json()
        assert now["version"] == before + 1, f"one event per step, got {now['version']}"
        snapshots[now["version"]] = now

    c = new_connection(api, owner_email="time@example.com")
    cid = c["id"]
    snapshots[1] = read(api, cid).json()
    consent_urls: list[str] = []

    def start() -> None:
        response = api.post(f"/v1/connections/{cid}/start_authorization")
        assert response.status_code == 200, response.text
        consent_urls.append(response.json()["consent_url"])

    def post(action: str, body: dict | None = None):
        def run() -> None:
            response = api.post(f"/v1/connections/{cid}/{action}", json=body)
            assert response.status_code == 200, response.text

        return run

    wrong = {**REQUIRED_SC_PERMISSIONS, "settings_user_permissions": "admin"}
    step(timedelta(hours=1), post("resend_invitation"))  # v2
    step(timedelta(hours=2), start)  # v3
    step(
        timedelta(minutes=5),  # v4
        lambda: consent(api, consent_urls[-1], "MARKETPLACE_NOT_PARTICIPATING"),
    )
    step(timedelta(days=1), start)  # v5
    step(
        timedelta(minutes=3),  # v6
        lambda: consent(api, consent_urls[-1], sandbox_selling_partner_id="A9TIMETRAVEL"),
    )
    step(timedelta(minutes=30), post("invite_seller_central_user"))  # v7
    step(
        timedelta(hours=2),
        post(
            "confirm_seller_central_user",  # v8
            {"permissions": wrong},
        ),
    )
    step(
        timedelta(hours=1),
        post(
            "confirm_seller_central_user",  # v9
            {"permissions": REQUIRED_SC_PERMISSIONS},
        ),
    )
    step(timedelta(minutes=1), post("activate"))  # v10
    step(timedelta(days=10), post("disconnect", {"reason": "moved on"}))  # v11

    states = [snapshots[v]["state"] for v in sorted(snapshots)]
    assert states == [
        "invited",
        "invited",
        "owner_pending",
        "invited",
        "owner_pending",
        "api_authorized",
        "sc_user_invited",
        "sc_user_invited",
        "permissions_verified",
        "active",
        "disconnected",
    ]
    assert snapshots[4]["last_error"]["code"] == "MARKETPLACE_NOT_PARTICIPATING"
    assert snapshots[8]["last_error"]["code"] == "SELLER_CENTRAL_PERMISSIONS_INCORRECT"
    latest = max(snapshots)
    events = api.get(f"/v1/connections/{cid}/events").json()["data"]
    assert [e["version"] for e in events] == list(range(1, latest + 1))

    # ?version=n is the connection after n events, for every n.
    for n in range(1, latest + 1):
        then = read(api, cid, version=n)
        assert then.status_code == 200, then.text
        assert then.json() == snapshots[n], f"version {n} differs from what was served then"
        assert then.headers["etag"] == f'"{n}"'
        assert parse(then.json()["updated_at"]) == parse(events[n - 1]["occurred_at"])

    # ?as_of=<instant> is the version current then: at an event, and between two events.
    moments = [parse(snapshots[n]["updated_at"]) for n in range(1, latest + 1)]
    assert moments == sorted(moments) and len(set(moments)) == latest
    for n in range(1, latest + 1):
        exactly = read(api, cid, as_of=at(moments[n - 1]))
        assert exactly.status_code == 200, exactly.text
        assert exactly.json() == snapshots[n]
        if n < latest:
            midway = moments[n - 1] + (moments[n] - moments[n - 1]) / 2
            between = read(api, cid, as_of=at(midway))
            assert between.json()["version"] == n, (n, at(midway))
            assert between.json() == snapshots[n]
            just_before_next = read(api, cid, as_of=at(moments[n] - timedelta(seconds=1)))
            assert just_before_next.json()["version"] == n

    # The same instant written with another offset, or with fractions of a second.
    ist = timezone(timedelta(hours=5, minutes=30))
    midway = moments[5] + timedelta(minutes=10)
    assert read(api, cid, as_of=midway.astimezone(ist).isoformat()).json() == snapshots[6]
    fractional = (moments[2] + timedelta(milliseconds=250)).isoformat().replace("+00:00", "Z")
    assert read(api, cid, as_of=fractional).json() == snapshots[3]

    # After the last event (even in the clock's future) it is the latest; before the
    # first it did not exist.
    assert (
        read(api, cid, as_of=at(live.clock.now() + timedelta(days=400))).json() == snapshots[latest]
    )
    missing = read(api, cid, as_of=at(START - timedelta(seconds=1)))
    assert missing.status_code == 404
    assert assert_client_problem(missing)["code"] == "NOT_FOUND"

    # Reading the past changed nothing.
    assert read(api, cid).json() == snapshots[latest]
    assert len(api.get(f"/v1/connections/{cid}/events").json()["data"]) == latest


def test_versions_outside_the_history_are_client_problems(live, api):
    c = new_connection(api)
    cid = c["id"]
    assert api.post(f"/v1/connections/{cid}/start_authorization").status_code == 200  # v2
    live.clock.advance(timedelta(hours=1))
    assert api.post(f"/v1/connections/{cid}/disconnect").status_code == 200  # v3

    for version in (0, 4, 1000, -1):
        problem = assert_client_problem(read(api, cid, version=version))
        assert str(version) in problem["detail"], problem

    # Two events at one instant: as_of then names the later one.
    both = read(api, cid, as_of=at(START))
    assert both.status_code == 200
    assert (both.json()["version"], both.json()["state"]) == (2, "owner_pending")
    assert read(api, cid, version=1).json()["state"] == "invited"

    before = assert_client_problem(read(api, cid, as_of=at(START - timedelta(microseconds=1))))
    assert before["code"] == "NOT_FOUND"
    assert "did not exist at 2026-01-05T08:59:59.999999" in before["detail"]
    assert read(api, cid).json()["version"] == 3


def test_as_of_accepts_lower_case_rfc3339(live_sqlite):
    with live_sqlite.client() as api:
        c = new_connection(api)
        response = read(api, c["id"], as_of="2026-01-05t09:00:00z")
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1


def _as_missing(response: httpx.Response, cid: str) -> tuple[int, dict[str, Any]]:
    """The answer with the id and the per-request fields taken out, to compare two."""
    body = {k: v for k, v in response.json().items() if k not in ("instance", "request_id")}
    body["detail"] = body["detail"].replace(cid, "<id>")
    return response.status_code, body


def test_another_tenants_connection_reads_exactly_like_a_missing_one_at_any_moment(live, api):
    theirs = new_connection(api)["id"]
    missing = "3f1d3a52-0c4e-4d5b-9a8e-6a0f1f7c2b11"
    moment = at(START + timedelta(minutes=5))
    with live.client("tenant_b") as other:
        for params in ({"as_of": moment}, {"version": 1}, {"version": 2}, {}):
            foreign = read(other, theirs, **params)
            absent = read(other, missing, **params)
            assert foreign.status_code == 404, (params, foreign.text)
            assert _as_missing(foreign, theirs) == _as_missing(absent, missing), params
        foreign_history = other.get(f"/v1/connections/{theirs}/events")
        absent_history = other.get(f"/v1/connections/{missing}/events")
        assert _as_missing(foreign_history, theirs) == _as_missing(absent_history, missing)

        for params in ({"as_of": moment}, {"version": 1}):
            assert_client_problem(read(other, "not-a-uuid", **params))

        # Nor can another tenant's id serve as a list cursor.
        cursors = [
            other.get("/v1/connections", params={"starting_after": cid})
            for cid in (theirs, missing)
        ]
        assert [c.status_code for c in cursors] == [422, 422]
        assert _as_missing(cursors[0], theirs) == _as_missing(cursors[1], missing)
    own = api.get("/v1/connections", params={"starting_after": theirs})  # the owner's: a cursor
    assert (own.status_code, own.json()["data"]) == (200, [])

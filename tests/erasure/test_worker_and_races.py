"""ERASE_AFTER_DISCONNECT_DAYS (the worker, on a fake clock), and erasure racing other
commands on the same connection, on both stores."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest

from service.workers.worker import Worker
from tests.conftest import LiveService, start_service
from tests.erasure.forgotten import assert_forgotten, create, dump, personal, values_of

ERASED = "[erased]"


def history_types(api: httpx.Client, cid: str) -> list[str]:
    events = api.get(f"/v1/connections/{cid}/events", params={"limit": 100}).json()["data"]
    return [e["type"] for e in events]


def test_the_worker_erases_connections_disconnected_longer_than_the_setting(database_url):
    live = start_service(database_url, ERASE_AFTER_DISCONNECT_DAYS="30")
    try:
        api, worker = live.client(), Worker(live.services)
        early, late, live_one = (
            create(api, personal(tag))["id"] for tag in ("1101", "1102", "1103")
        )
        api.post(f"/v1/connections/{early}/disconnect").raise_for_status()
        live.clock.advance(timedelta(days=20))
        api.post(f"/v1/connections/{late}/disconnect").raise_for_status()

        live.clock.advance(timedelta(days=11))  # 31 days after the first, 11 after the second
        assert worker.erase_due() == 1
        assert api.get(f"/v1/connections/{early}").json()["owner_email"] == ERASED
        assert api.get(f"/v1/connections/{late}").json()["owner_email"] != ERASED
        erased = api.get(f"/v1/connections/{early}/events").json()["data"][-1]
        assert erased["type"] == "connection.erased" and erased["actor"] == "system:erasure"

        live.clock.advance(timedelta(days=20))
        worker.run_once()  # the timed steps include erasure when the setting is on
        assert api.get(f"/v1/connections/{late}").json()["owner_email"] == ERASED
        assert worker.erase_due() == 0  # nothing twice
        assert history_types(api, early).count("connection.erased") == 1
        assert api.get(f"/v1/connections/{live_one}").json()["owner_email"] != ERASED
        assert_forgotten(
            dump(database_url), values_of(personal("1101")) + values_of(personal("1102"))
        )
    finally:
        live.stop()


def test_without_the_setting_nothing_is_erased_automatically(sqlite_url):
    live = start_service(sqlite_url)
    try:
        api = live.client()
        cid = create(api, personal("1201"))["id"]
        api.post(f"/v1/connections/{cid}/disconnect").raise_for_status()
        live.clock.advance(timedelta(days=3650))
        Worker(live.services).run_once()
        assert api.get(f"/v1/connections/{cid}").json()["owner_email"] != ERASED
    finally:
        live.stop()


def test_an_erasure_that_loses_the_race_to_another_erasure_records_one(database_url):
    live = start_service(database_url)
    try:
        api = live.client()
        cid = create(api, personal("1301"))["id"]
        api.post(f"/v1/connections/{cid}/disconnect").raise_for_status()
        eraser = live.services.erasure
        redactions, raced = eraser._redactions, []

        def another_process_erases_first(connection: Any) -> dict[str, str]:
            if not raced:  # between this erasure's load and its save
                raced.append(True)
                raced.append(eraser.erase(cid, "the other one", "other-actor"))
            return redactions(connection)

        eraser._redactions = another_process_erases_first
        erased = eraser.erase(cid, "this one", "this-actor")
        assert raced and erased.erased_at is not None
        events = api.get(f"/v1/connections/{cid}/events").json()["data"]
        assert [e["type"] for e in events].count("connection.erased") == 1
        assert events[-1]["actor"] == "other-actor"
        assert api.get(f"/v1/connections/{cid}/audit").json()["ok"]
    finally:
        live.stop()


@pytest.mark.parametrize("rounds", [6])
def test_erasure_racing_disconnect_and_itself_over_http(database_url, rounds):
    live: LiveService = start_service(database_url)
    try:
        api = live.client()
        people = [personal(f"14{i:02d}") for i in range(rounds)]
        ids = [create(api, who)["id"] for who in people]
        outcomes: dict[str, list[int]] = {cid: [] for cid in ids}
        barrier = threading.Barrier(3 * rounds)

        def call(cid: str, action: str, body: dict) -> None:
            with live.client() as own:
                barrier.wait()
                response = own.post(f"/v1/connections/{cid}/{action}", json=body)
                outcomes[cid].append(response.status_code)
                if action == "erase" and response.status_code == 409:
                    assert response.json()["code"] in ("INVALID_TRANSITION", "VERSION_CONFLICT")

        threads = [
            threading.Thread(target=call, args=(cid, action, body))
            for cid in ids
            for action, body in (
                ("disconnect", {"reason": "left"}),
                ("erase", {"reason": "race 1"}),
                ("erase", {"reason": "race 2"}),
            )
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for cid in ids:
            assert 500 not in outcomes[cid], outcomes[cid]
            # Whatever the order, asking again ends erased, with one erasure recorded.
            again = api.post(f"/v1/connections/{cid}/erase", json={"reason": "after"})
            assert again.status_code == 200, again.text
            assert history_types(api, cid).count("connection.erased") == 1
            assert api.get(f"/v1/connections/{cid}/audit").json()["ok"]
        assert_forgotten(dump(database_url), [v for who in people for v in values_of(who)])
    finally:
        live.stop()

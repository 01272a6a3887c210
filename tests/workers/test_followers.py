"""The log's followers (read model, webhook outbox) when one event cannot be processed:
visible in /readyz, the metrics and the log, got past by an operator, and never a reason
for the worker's other steps to stop."""

from __future__ import annotations

import json
import logging
import subprocess
from uuid import UUID

import httpx
from eventsourcing.persistence import StoredEvent

from service.workers.worker import Worker
from tests.conftest import new_connection, run_cli

pytest_plugins = ["tests.webhooks.fixtures"]  # hooked, hooked_sqlite, receiver…

FOLLOWERS = ["connections_view", "webhook_outbox"]


def _poison(services, connection_id: str, version: int) -> int:
    """An event this code cannot read (say, written by a newer release that was rolled
    back), stored after the connection's own; returns its log position."""
    [notification_id] = services.app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(connection_id),
                originator_version=version,
                topic="domain.connection:Connection.FromTheFuture",
                state=b'{"meta": {}}',
            )
        ]
    )
    return notification_id


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return run_cli(database_url, "followers", *args)


def _metric(live, name: str, follower: str) -> float:
    text = httpx.get(f"{live.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(f'{name}{{follower="{follower}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_an_event_no_follower_can_process_is_named_until_an_operator_parks_it(
    hooked, database_url, caplog
):
    services = hooked.services
    poisoned = {n: _metric(hooked, "follower_poison_events_total", n) for n in FOLLOWERS}
    with hooked.client() as api:
        first = new_connection(api)
        Worker(services).run_once()
        position = _poison(services, first["id"], 2)
        later = new_connection(api, owner_email="later@example.com")

        with caplog.at_level(logging.ERROR, logger="service.follower"):
            Worker(services).run_once()  # no step raises: the followers stop short
            Worker(services).run_once()  # and retry, logging the event once

        ready = httpx.get(f"{hooked.url}/readyz")
        assert ready.status_code == 503
        problem = ready.json()
        for name in FOLLOWERS:
            assert (
                f"follower {name} is stuck at position {position} (connection {first['id']})"
                in problem["detail"]
            )
            assert _metric(hooked, "follower_stuck_position", name) == position
            assert _metric(hooked, "follower_poison_events_total", name) == poisoned[name] + 1
        assert [s["follower"] for s in problem["checks"]["stuck_followers"]] == FOLLOWERS
        stuck_lines = [r for r in caplog.records if "is stuck at position" in r.getMessage()]
        assert len(stuck_lines) == len(FOLLOWERS)
        assert all(first["id"] in r.getMessage() for r in stuck_lines)
        # Reads still answer, from the read model as it stood before the event.
        listed = api.get("/v1/connections").json()["data"]
        assert [c["id"] for c in listed] == [first["id"]]

        status = _cli(database_url, "status")
        assert status.returncode == 1, status.stderr
        lines = {s["follower"]: s["stuck"] for s in map(json.loads, status.stdout.splitlines())}
        assert {name: lines[name]["position"] for name in FOLLOWERS} == dict.fromkeys(
            FOLLOWERS, position
        )
        assert lines["mail_outbox"] is None  # it mails none of that event's kind: not stuck
        assert _cli(database_url, "skip", "connections_view", str(position + 1)).returncode == 1
        for name in FOLLOWERS:
            skipped = _cli(database_url, "skip", name, str(position))
            assert skipped.returncode == 0, skipped.stderr

        Worker(services).run_once()

        assert httpx.get(f"{hooked.url}/readyz").status_code == 200
        for name in FOLLOWERS:
            assert _metric(hooked, "follower_stuck_position", name) == 0
        listed = api.get("/v1/connections").json()["data"]
        assert {c["id"] for c in listed} == {first["id"], later["id"]}
        faults = [json.loads(line) for line in _cli(database_url, "faults").stdout.splitlines()]
        assert [(f["follower"], f["status"]) for f in faults] == [
            (name, "parked") for name in FOLLOWERS
        ]
        assert _cli(database_url, "status").returncode == 0


def test_a_worker_step_that_fails_does_not_stop_the_others(hooked_sqlite, receiver):
    services = hooked_sqlite.services
    row, _ = services.webhooks.endpoints.create("tenant_a", url=receiver.url, event_types=["*"])
    with hooked_sqlite.client() as api:
        new_connection(api)
    # The read model's table is gone: the projection, deadlines and refresh health fail.
    services.tables.execute("DROP TABLE connections_view")

    Worker(services).run_once()

    # The webhook step still fanned the event out (and the dispatcher took it).
    [(delivery, _)] = services.webhooks.endpoints.deliveries("tenant_a", row.id, 10)
    assert delivery.event_type == "connection.invited"
    text = httpx.get(f"{hooked_sqlite.url}/metrics", timeout=10).text
    failed = {
        line.split('"')[1]
        for line in text.splitlines()
        if line.startswith("worker_step_failures_total{") and not line.endswith(" 0.0")
    }
    assert {"projection", "deadlines", "refresh_health"} <= failed
    assert "webhooks" not in failed

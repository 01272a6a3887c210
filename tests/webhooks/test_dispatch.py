"""How the dispatcher meets receivers: a failure retried under the same webhook id,
Retry-After on 429, redirects not followed, 410 and five failing days disabling an
endpoint, a slow receiver holding up no one, two dispatchers delivering each event once.

Time moves with the service's settable clock; no test sleeps through a retry delay.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from service.container import build
from service.webhooks import RETRY_DELAYS, build_webhooks
from tests.conftest import START, make_settings, new_connection
from tests.webhooks.helpers import deliveries, endpoint, hooks

pytest_plugins = ["tests.webhooks.fixtures"]  # hooked, hooked_sqlite, guarded, receiver…


def test_a_receiver_that_fails_then_recovers_gets_the_same_webhook_id(hooked, receiver):
    row, _ = endpoint(hooked, receiver)
    receiver.answer(500, "x" * 5000)
    with hooked.client() as api:
        new_connection(api)

    assert hooks(hooked).run_once() == 1
    [(delivery, [attempt])] = deliveries(hooked, row)
    assert delivery.status == "pending"
    assert attempt.status_code == 500
    assert len(attempt.response_body) == 1024  # kept, truncated
    assert attempt.latency_ms >= 0
    assert hooks(hooked).run_once() == 0  # not due before the first retry delay (5 s)

    hooked.clock.advance(timedelta(seconds=6))
    assert hooks(hooked).run_once() == 1

    assert len(receiver.requests) == 2
    assert receiver.ids()[0] == receiver.ids()[1]
    [(delivery, attempts)] = deliveries(hooked, row)
    assert delivery.status == "succeeded"
    assert [a.status_code for a in attempts] == [500, 200]


def test_retry_after_is_honoured_on_429(hooked, receiver):
    row, _ = endpoint(hooked, receiver)
    receiver.answer(429, Retry_After="120")
    with hooked.client() as api:
        new_connection(api)
    hooks(hooked).run_once()

    hooked.clock.advance(timedelta(seconds=60))  # past the 5 s schedule, before Retry-After
    assert hooks(hooked).run_once() == 0
    hooked.clock.advance(timedelta(seconds=61))
    assert hooks(hooked).run_once() == 1
    assert [a.status_code for _, attempts in deliveries(hooked, row) for a in attempts] == [
        429,
        200,
    ]


def test_redirects_are_not_followed(hooked_sqlite, receiver):
    row, _ = endpoint(hooked_sqlite, receiver)
    receiver.answer(302, Location=receiver.url.replace("/hooks", "/elsewhere"))
    with hooked_sqlite.client() as api:
        new_connection(api)
    hooks(hooked_sqlite).run_once()

    assert [r.path for r in receiver.requests] == ["/hooks"]
    [(delivery, [attempt])] = deliveries(hooked_sqlite, row)
    assert (delivery.status, attempt.status_code) == ("pending", 302)


def test_410_disables_the_endpoint_and_stops_deliveries(hooked, receiver):
    row, _ = endpoint(hooked, receiver)
    receiver.answer(410)
    with hooked.client() as api:
        c = new_connection(api)
        hooks(hooked).run_once()
        api.post(f"/v1/connections/{c['id']}/start_authorization").raise_for_status()
    hooked.clock.advance(timedelta(hours=1))
    hooks(hooked).run_once()

    after = hooks(hooked).endpoints.get("tenant_a", row.id)
    assert (after.enabled, after.disabled_reason) == (False, "gone")
    assert len(receiver.requests) == 1
    assert [d.status for d, _ in deliveries(hooked, row)] == ["failed"]


def test_an_endpoint_failing_for_five_days_is_disabled(hooked_sqlite, receiver):
    live = hooked_sqlite
    row, _ = endpoint(live, receiver)
    receiver.script.extend([(500, {}, "down")] * 50)
    with live.client() as api:
        c = new_connection(api)
        hooks(live).run_once()
        for delay in RETRY_DELAYS:  # every retry of the first delivery, ~3.5 days in all
            live.clock.advance(delay * 1.1 + timedelta(seconds=1))
            assert hooks(live).run_once() == 1
        assert hooks(live).endpoints.get("tenant_a", row.id).enabled
        live.clock.set(START + timedelta(days=5, seconds=1))
        api.post(f"/v1/connections/{c['id']}/resend_invitation").raise_for_status()
        hooks(live).run_once()

    after = hooks(live).endpoints.get("tenant_a", row.id)
    assert (after.enabled, after.disabled_reason) == (False, "failing")
    statuses = sorted(d.status for d, _ in deliveries(live, row))
    assert statuses == ["failed", "pending"]  # the first exhausted its 10 attempts


def test_a_slow_receiver_does_not_hold_up_the_others(hooked_sqlite, receiver):
    live = hooked_sqlite
    slow_url = receiver.url.replace("/hooks", "/slow")
    receiver.slow_paths["/slow"] = 2.0
    endpoint(live, receiver)
    endpoint(live, receiver, url=slow_url)
    dispatcher = hooks(live).dispatcher
    n = dispatcher.per_endpoint
    with live.client() as api:
        for _ in range(2 * n):
            new_connection(api)
    hooks(live).outbox.catch_up()

    assert dispatcher.run_once(wait=False) == 2 * n  # n per endpoint per pass
    deadline = time.monotonic() + 5
    while sum(r.path == "/hooks" for r in receiver.requests) < 2 * n:
        dispatcher.run_once(wait=False)  # the slow endpoint, still full, gets nothing more
        assert time.monotonic() < deadline, "fast deliveries waited for the slow receiver"
        time.sleep(0.02)
    assert sum(r.path == "/slow" for r in receiver.requests) == n

    deadline = time.monotonic() + 10
    while sum(r.path == "/slow" for r in receiver.requests) < 2 * n:
        dispatcher.run_once(wait=False)
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.postgres
def test_two_dispatchers_on_postgresql_deliver_each_event_exactly_once(hooked_postgres, receiver):
    live = hooked_postgres
    other = build(
        make_settings(live.services.settings.database_url, WEBHOOK_ALLOW_PRIVATE="1"),
        clock=live.clock,
    )
    second = build_webhooks(other)
    try:
        endpoint(live, receiver)
        endpoint(live, receiver, url=receiver.url.replace("/hooks", "/second"))
        with live.client() as api:
            for _ in range(15):
                new_connection(api)
        receiver.delay = 0.005
        workers = [hooks(live), second]

        def drain(webhooks):
            deadline = time.monotonic() + 30
            while len(receiver.requests) < 30 and time.monotonic() < deadline:
                webhooks.outbox.catch_up()
                webhooks.dispatcher.run_once()
            time.sleep(0.2)  # a duplicate, if any, has time to arrive

        threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        second.close()
        other.close()

    by_path: dict[str, list[str]] = {}
    for r in receiver.requests:
        by_path.setdefault(r.path, []).append(r.headers["webhook-id"])
    assert sorted(by_path) == ["/hooks", "/second"]
    for path, ids in by_path.items():
        assert len(set(ids)) == 15, f"{path}: {len(set(ids))} events delivered"
        assert len(ids) == 15, f"{path}: sent twice: {sorted(i for i in ids if ids.count(i) > 1)}"

"""SIGTERM under load, as an orchestrator stops the service: requests in flight finish,
the worker stops cleanly, webhooks being sent are finished and recorded (nothing
half-sent, nothing sent twice), and what was acknowledged is in the store."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx

from tests.faults import checks, figures
from tests.faults.load import CONNECTION, Load
from tests.faults.receiver import WebhookReceiver

ROUNDS = 5 if figures.LONG else 1
UPLOAD_SECONDS = 3.0  # each slow request is in flight this long
RECEIVER_DELAY = 3.0  # each webhook is in flight this long


def slow_create(url: str, key: str, answers: list) -> None:
    """A create whose body trickles in over UPLOAD_SECONDS: in flight at the SIGTERM.
    Keeps (sent, answered, response)."""
    body = json.dumps(CONNECTION).encode()

    def trickle():
        for i in range(len(body)):
            yield body[i : i + 1]
            time.sleep(UPLOAD_SECONDS / len(body))

    sent = time.monotonic()
    response = httpx.post(
        f"{url}/v1/connections",
        content=trickle(),
        timeout=30,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    answers.append((sent, time.monotonic(), response))


def wait_for_a_webhook_in_flight(receiver: WebhookReceiver, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while receiver.in_progress == 0:
        assert time.monotonic() < deadline, "no webhook was sent"
        time.sleep(0.01)


def assert_stopped_cleanly(status: int, log: str) -> None:
    """Exit status and the log lines written from the SIGTERM on."""
    assert status in (0, -signal.SIGTERM), status  # uvicorn re-raises the signal it got
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    assert "worker stopped" in events and "Application shutdown complete." in events
    assert not [line for line in lines if line["level"] in ("error", "critical")]
    assert "Traceback" not in log


def test_sigterm_finishes_requests_and_webhooks_in_flight_and_stops_the_worker_cleanly(
    store, service_factory, pg_schema_url
):
    receiver = WebhookReceiver(delay=RECEIVER_DELAY).start()
    service = service_factory(pg_schema_url)
    key = store.api_keys.create(
        "tenant_term", ["connections:read", "connections:write", "webhooks:manage"]
    ).secret
    headers = {"Authorization": f"Bearer {key}"}
    endpoint = httpx.post(
        f"{service.url}/v1/webhook_endpoints", headers=headers, json={"url": receiver.url}
    ).json()
    receiver.secret = endpoint["secret"]

    loads, slow, stops, sent_at_stop = [], [], [], []
    for _ in range(ROUNDS):
        # Paced: under an unpaced load the worker's catch-up never ends and it sends no
        # webhook at all (a known limit), and this test needs one in flight.
        load = Load(service.url, key, clients=4, pause=0.1).start()
        time.sleep(1.0)
        wait_for_a_webhook_in_flight(receiver)
        answers: list = []
        uploads = [
            threading.Thread(target=slow_create, args=(service.url, key, answers)) for _ in range(3)
        ]
        for upload in uploads:
            upload.start()
        time.sleep(0.5)
        log_before = len(service.log.read_text())
        stopped_at = time.monotonic()
        status = service.terminate(timeout=30)
        stops.append(time.monotonic() - stopped_at)
        assert_stopped_cleanly(status, service.log.read_text()[log_before:])
        for upload in uploads:
            upload.join()
        loads.append(load.stop())
        assert all(sent < stopped_at < answered for sent, answered, _ in answers)
        slow += [response for _, _, response in answers]
        in_flight = [d for d in receiver.received if d.arrived < stopped_at < d.answered]
        assert in_flight, "no webhook was being sent at the SIGTERM"
        sent_at_stop += [d.webhook_id for d in in_flight]
        service.start()

    assert [r.status_code for r in slow] == [201] * len(slow) == [201] * 3 * ROUNDS
    outcomes = [o for load in loads for o in load.outcomes]
    assert not [o for o in outcomes if o.status and o.status >= 500]
    acks = [a for load in loads for a in load.acks]
    assert checks.lost(store, acks) == []

    # A request cut at the shutdown was written to a keep-alive connection as the server
    # closed it, idle: it never ran. Sent again with its Idempotency-Key, it runs now.
    cut = [o for o in outcomes if o.status is None and o.error != "ConnectError"]
    for o in cut:
        if o.command == "create":
            again = httpx.post(
                f"{service.url}/v1/connections",
                json=CONNECTION,
                timeout=30,
                headers={**headers, "Idempotency-Key": o.idempotency_key},
            )
            assert again.status_code == 201, again.text
            assert "idempotent-replayed" not in again.headers

    # The webhooks being sent at each SIGTERM were finished and recorded before the
    # process exited: the restarted worker has nothing to send again.
    checks.wait_until_caught_up(service.url)
    recorded = {d["event_id"]: d for d in checks.deliveries(service.url, key, endpoint["id"])}
    for webhook_id in sent_at_stop:
        assert (recorded[webhook_id]["status"], recorded[webhook_id]["attempt_count"]) == (
            "succeeded",
            1,
        ), recorded[webhook_id]
    time.sleep(2 * RECEIVER_DELAY)  # a few worker passes
    delivered = [d.webhook_id for d in receiver.received if d.status == 200]
    assert all(d.signed for d in receiver.received)
    assert len(delivered) == len(set(delivered)), "a webhook was sent twice"
    receiver.stop()

    figures.record(
        "sigterm",
        faults_injected=ROUNDS,
        requests_answered=sum(o.status is not None for o in outcomes) + len(slow),
        requests_refused_while_down=sum(o.error == "ConnectError" for o in outcomes),
        acknowledged=len(acks) + len(slow),
        acknowledged_lost=0,
        in_flight_requests_finished=len(slow),
        cut_while_idle=len(cut),
        webhooks_in_flight_finished=len(sent_at_stop),
        webhooks_sent_twice=0,
        shutdown_seconds_max=round(max(stops), 1),
    )

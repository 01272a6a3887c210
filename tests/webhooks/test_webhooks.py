"""The outbox and the dispatcher against a real HTTP receiver on loopback, on each store.

Time moves with the service's settable clock; no test sleeps through a retry delay.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from adapters.webhook_sender import WebhookSender, new_secret
from service.container import build
from service.webhooks import LEASE, RETRY_DELAYS, build_webhooks
from tests.conftest import START, make_settings, new_connection

pytest_plugins = ["tests.webhooks.fixtures"]  # hooked, hooked_sqlite, guarded, receiver…


def hooks(live):
    return live.services.webhooks


def endpoint(live, receiver, tenant="tenant_a", **fields):
    row, secret = hooks(live).endpoints.create(
        tenant,
        url=fields.pop("url", receiver.url),
        event_types=fields.pop("event_types", ["*"]),
        **fields,
    )
    return row, secret


def deliveries(live, endpoint_row):
    return hooks(live).endpoints.deliveries(endpoint_row.tenant_id, endpoint_row.id, 100)


def test_each_event_is_delivered_signed_with_the_connection_as_of_that_event(hooked, receiver):
    row, secret = endpoint(hooked, receiver)
    with hooked.client() as api:
        c = new_connection(api)
        api.post(f"/v1/connections/{c['id']}/start_authorization").raise_for_status()
        history = api.get(f"/v1/connections/{c['id']}/events").json()["data"]
    assert receiver.requests == []  # nothing is sent from the request handler

    assert hooks(hooked).run_once() == 2

    # Sent concurrently, so they may arrive in either order: receivers go by `version`.
    first, second = sorted(receiver.requests, key=lambda r: r.json["data"]["connection"]["version"])
    for request in (first, second):
        Webhook(secret).verify(request.body, request.headers)
        assert request.headers["content-type"] == "application/json"
    assert [first.headers["webhook-id"], second.headers["webhook-id"]] == [e["id"] for e in history]
    assert first.json["type"] == "connection.invited"
    assert first.json["data"]["connection"]["state"] == "invited"
    assert first.json["data"]["connection"]["version"] == 1
    assert first.json["data"]["event"] == {
        "id": history[0]["id"],
        "type": "connection.invited",
        "occurred_at": history[0]["occurred_at"],
        "actor": history[0]["actor"],
    }
    assert second.json["type"] == "connection.authorization_started"
    assert second.json["data"]["connection"]["state"] == "owner_pending"
    assert second.json["data"]["connection"]["version"] == 2
    assert second.json["timestamp"] == history[1]["occurred_at"]
    assert [d.status for d, _ in deliveries(hooked, row)] == ["succeeded", "succeeded"]


def without_link(shown: dict) -> dict:
    """The API's connection less the owner's `invitation_url`: webhook bodies are stored
    in the outbox, and the link is a credential, so webhooks leave it out."""
    assert shown.pop("invitation_url").startswith("http")
    return shown


@pytest.mark.parametrize("remembered", [True, False], ids=["remembered", "cold"])
def test_the_payload_is_the_connection_as_the_api_shows_that_version(hooked, receiver, remembered):
    """Built from the state the outbox kept after the previous event, or (a worker that
    just started, or another process's) loaded from the store: the same payload."""
    endpoint(hooked, receiver)
    with hooked.client() as api:
        c = new_connection(api)
        assert hooks(hooked).run_once() == 1
        if not remembered:
            hooks(hooked).outbox._latest.clear()  # as in a worker process that just started
        api.post(f"/v1/connections/{c['id']}/resend_invitation").raise_for_status()
        api.post(f"/v1/connections/{c['id']}/start_authorization").raise_for_status()
        assert hooks(hooked).run_once() == 2
        for version in (2, 3):
            [sent] = [
                r.json["data"]["connection"]
                for r in receiver.requests
                if r.json["data"]["connection"]["version"] == version
            ]
            shown = api.get(f"/v1/connections/{c['id']}", params={"version": version}).json()
            assert sent == without_link(shown)


def test_an_outbox_loads_the_state_when_another_process_fanned_out_the_events_between(
    hooked, receiver
):
    endpoint(hooked, receiver)
    other = build(
        make_settings(hooked.services.settings.database_url, WEBHOOK_ALLOW_PRIVATE="1"),
        clock=hooked.clock,
    )
    try:
        with hooked.client() as api:
            c = new_connection(api)
            assert hooks(hooked).run_once() == 1  # this outbox keeps version 1
            api.post(f"/v1/connections/{c['id']}/resend_invitation").raise_for_status()
            assert other.webhooks.run_once() == 1  # another process fans out version 2
            api.post(f"/v1/connections/{c['id']}/start_authorization").raise_for_status()
            assert hooks(hooked).run_once() == 1  # version 3: this outbox never saw 2

            [sent] = [
                r.json["data"]["connection"]
                for r in receiver.requests
                if r.json["data"]["connection"]["version"] == 3
            ]
            shown = api.get(f"/v1/connections/{c['id']}", params={"version": 3}).json()
            assert sent == without_link(shown)
    finally:
        other.close()


def test_endpoints_receive_only_the_types_they_subscribe_to(hooked, receiver):
    endpoint(hooked, receiver, event_types=["connection.authorization_started"])
    with hooked.client() as api:
        c = new_connection(api)
        api.post(f"/v1/connections/{c['id']}/start_authorization").raise_for_status()
    with hooked.client("tenant_b") as other:
        new_connection(other)  # another tenant's event never reaches tenant_a's endpoint

    hooks(hooked).run_once()

    assert [r.json["type"] for r in receiver.requests] == ["connection.authorization_started"]


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


def test_after_the_retention_finished_deliveries_and_their_events_are_pruned(hooked, receiver):
    row, _ = endpoint(hooked, receiver)
    with hooked.client() as api:
        new_connection(api)  # delivered at once
        hooks(hooked).run_once()
        receiver.answer(500)
        new_connection(api)  # fails, and waits for its retry
        hooks(hooked).run_once()
        by_status = {d.status: d for d, _ in deliveries(hooked, row)}
        done, waiting = by_status["succeeded"], by_status["pending"]

        hooked.clock.advance(timedelta(days=31))  # past the 30-day default
        new_connection(api)
        hooks(hooked).outbox.catch_up()
        assert hooks(hooked).prune() == 2  # the delivered one and its event

        left = {d.id: len(attempts) for d, attempts in deliveries(hooked, row)}
        assert done.id not in left and left[waiting.id] == 1 and len(left) == 2
        assert api.post(f"/v1/webhook_deliveries/{done.id}/redeliver").status_code == 404
        assert api.post(f"/v1/webhook_deliveries/{waiting.id}/redeliver").is_success
        assert hooks(hooked).prune() == 0  # nothing more is old enough, and it waits a minute


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


def test_a_dispatcher_that_dies_between_claim_and_send_loses_nothing(hooked, receiver):
    endpoint(hooked, receiver)
    with hooked.client() as api:
        new_connection(api)
    hooks(hooked).outbox.catch_up()

    crashed = build_webhooks(hooked.services)
    assert len(crashed.dispatcher.claim()) == 1  # leased, then the process "dies"
    crashed.close()
    restarted = build_webhooks(hooked.services)
    try:
        assert restarted.dispatcher.run_once() == 0  # the lease still holds
        hooked.clock.advance(LEASE + timedelta(seconds=1))
        assert restarted.dispatcher.run_once() == 1
        assert restarted.dispatcher.run_once() == 0
    finally:
        restarted.close()
    assert len(receiver.requests) == 1


def test_events_committed_before_the_outbox_ever_ran_are_still_delivered(hooked, receiver):
    endpoint(hooked, receiver)
    with hooked.client() as api:
        new_connection(api)  # committed while no outbox has looked at the log
        new_connection(api)

    assert hooks(hooked).outbox.catch_up() == 2
    assert hooks(hooked).outbox.catch_up() == 0
    hooks(hooked).dispatcher.run_once()
    assert len(receiver.requests) == 2


def test_during_rotation_both_secrets_sign_for_24_hours(hooked, receiver):
    row, old = endpoint(hooked, receiver)
    _, new = hooks(hooked).endpoints.rotate_secret("tenant_a", row.id)
    with hooked.client() as api:
        c = new_connection(api)
        hooks(hooked).run_once()
        hooked.clock.advance(timedelta(hours=24, seconds=1))
        api.post(f"/v1/connections/{c['id']}/resend_invitation").raise_for_status()
        hooks(hooked).run_once()

    during, after = receiver.requests
    assert len(during.headers["webhook-signature"].split()) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


def test_a_url_that_later_resolves_privately_is_refused_at_send_time(
    guarded, receiver, monkeypatch
):
    answers = {"hooks.example.test": "93.184.215.14"}
    real = socket.getaddrinfo

    def fake_dns(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    row, _ = endpoint(guarded, receiver, "tenant_rebind", url="http://hooks.example.test/hooks")
    answers["hooks.example.test"] = "127.0.0.1"  # DNS rebinding after the check
    with guarded.client("tenant_rebind") as api:
        new_connection(api)
    hooks(guarded).run_once()

    assert receiver.requests == []
    [(delivery, [attempt])] = deliveries(guarded, row)
    assert attempt.status_code is None
    assert "private" in attempt.error
    assert delivery.status == "pending"


def test_a_delivery_goes_to_the_address_checked_even_when_dns_answers_loopback_next(monkeypatch):
    """DNS rebinding at connect time: the name answers a public address to the guard and
    loopback to anyone asking again. The public address is played by a loopback server
    (traffic stays local); the internal service listens where the second answer points."""
    checked, internal = _Recorder(), _Recorder()
    public = "93.184.215.14"
    answers = iter([public])
    real_dns, real_connect = socket.getaddrinfo, socket.create_connection

    def rebinding_dns(host, port, *args, **kwargs):
        if host == "hooks.example.test":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real_dns(host, port, *args, **kwargs)

    def connect(address, *args, **kwargs):
        if address[0] == public:  # the public host, played on loopback
            address = checked.address
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    monkeypatch.setattr(socket, "create_connection", connect)
    port = internal.address[1]
    sender = WebhookSender(allow_private=False, timeout=5)
    try:
        result = sender.send(f"http://hooks.example.test:{port}/x", "msg_1", "{}", [new_secret()])
    finally:
        sender.close()
        checked.stop()
        internal.stop()

    assert result.status_code == 204, result
    assert internal.hosts == []
    assert checked.hosts == [f"hooks.example.test:{port}"]


class _Recorder:
    """A loopback HTTP server that answers 204 and keeps each request's Host header."""

    def __init__(self) -> None:
        hosts: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                hosts.append(self.headers["Host"])
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.hosts = hosts
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.address = self.server.server_address
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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


def test_https_goes_to_the_checked_address_and_verifies_the_urls_name(tmp_path, monkeypatch):
    cert, key = _self_signed("hooks.test", tmp_path)
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen["host"] = self.headers["host"]
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    port = server.server_address[1]
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host.endswith(".test") else host, *a, **k),
    )
    sender = WebhookSender(allow_private=True, verify=ssl.create_default_context(cafile=cert))
    try:
        ok = sender.send(f"https://hooks.test:{port}/x", "msg_1", "{}", [new_secret()])
        wrong = sender.send(f"https://other.test:{port}/x", "msg_1", "{}", [new_secret()])
    finally:
        sender.close()
        server.shutdown()
        server.server_close()

    assert (ok.status_code, seen["host"]) == (204, f"hooks.test:{port}")
    assert wrong.status_code is None
    assert "certificate" in wrong.error


def _self_signed(name, folder):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)

"""What is checked when a webhook is sent, not only when its endpoint is made: a URL that
later resolves to a private address is refused, the request goes to the address checked
(whatever DNS answers next), and https verifies the URL's name."""

from __future__ import annotations

import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.webhook_sender import WebhookSender, new_secret
from tests.conftest import new_connection
from tests.webhooks.helpers import deliveries, endpoint, hooks

pytest_plugins = ["tests.webhooks.fixtures"]  # hooked, hooked_sqlite, guarded, receiver…


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

"""The Python client's retries, against a real HTTP server on loopback that answers 429 and
503 on cue (the service itself sheds load only under load)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from marketplace_connections import Client, ProblemError
from marketplace_connections.generated.api.connections import (
    activate,
    create_connection,
    get_connection,
)
from marketplace_connections.generated.api.webhooks import create_webhook_endpoint
from marketplace_connections.retries import retry_after_seconds

from tests.conftest import free_port

BODY = {"owner_email": "owner@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]}


def problem(status: int, code: str) -> tuple[int, dict[str, str], bytes]:
    body = {"type": "about:blank", "title": code, "status": status, "code": code, "detail": code}
    return status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode()


# A connection as the service answers a create: the client parses it into its model.
CONNECTION = {
    "id": "con_1",
    "object": "connection",
    "state": "invited",
    "version": 1,
    "account_type": "seller",
    "region": "na",
    "marketplace_ids": ["ATVPDKIKX0DER"],
    "selling_partner_id": None,
    "selling_partner_id_source": None,
    "owner_email": "owner@example.com",
    "invited_by": None,
    "return_url": None,
    "metadata": {},
    "requirements": {"seller_central_user": None, "advertising": False},
    "advertising": "not_required",
    "advertising_profiles": [],
    "seller_central": None,
    "allowed_actions": ["resend_invitation", "start_authorization", "disconnect"],
    "last_error": None,
    "warning": None,
    "authorized_at": None,
    "reauth_due_at": None,
    "lapses_at": None,
    "invitation_expires_at": "2026-01-08T00:00:00Z",
    "last_attempt_at": None,
    "disconnect_reason": None,
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}
CREATED = (201, {"Content-Type": "application/json"}, json.dumps(CONNECTION).encode())


@dataclass
class Scripted:
    """Answers each request with the next scripted response; records what it was sent."""

    url: str
    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    seen: list[tuple[str, dict[str, str], float]] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[Scripted]:
    port = free_port()
    scripted = Scripted(f"http://127.0.0.1:{port}")

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            scripted.seen.append((self.command, headers, time.monotonic()))
            status, extra, body = scripted.script.pop(0) if scripted.script else CREATED
            self.send_response(status)
            for name, value in {**extra, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield scripted
    httpd.shutdown()
    httpd.server_close()


def test_a_create_is_retried_after_retry_after_with_the_same_idempotency_key(
    server: Scripted,
) -> None:
    status, headers, body = problem(503, "SERVICE_UNAVAILABLE")
    server.script = [(status, {**headers, "Retry-After": "1"}, body), problem(429, "RATE_LIMITED")]
    with Client(server.url, "key") as client:
        made = client.call(create_connection, body=BODY)
    assert made.id == "con_1" and made.state == "invited"
    keys = [headers.get("idempotency-key") for _, headers, _ in server.seen]
    assert len(keys) == 3 and keys[0] and len(set(keys)) == 1
    assert server.seen[1][2] - server.seen[0][2] >= 0.95  # Retry-After: 1 was honoured


def test_a_key_the_caller_gives_is_the_one_sent(server: Scripted) -> None:
    server.script = [problem(429, "RATE_LIMITED")]
    with Client(server.url, "key") as client:
        client.call(create_connection, body=BODY, idempotency_key="mine-1")
    assert [h["idempotency-key"] for _, h, _ in server.seen] == ["mine-1", "mine-1"]


def test_an_action_gets_a_key_too(server: Scripted) -> None:
    server.script = [problem(503, "SERVICE_UNAVAILABLE")]
    with Client(server.url, "key") as client:
        client.call(activate, connection_id="con_1")
    keys = [headers.get("idempotency-key") for _, headers, _ in server.seen]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]


def test_retries_are_bounded(server: Scripted) -> None:
    server.script = [problem(503, "SERVICE_UNAVAILABLE")] * 10
    with Client(server.url, "key", max_retries=2) as client, pytest.raises(ProblemError) as gave_up:
        client.call(get_connection, connection_id="con_1")
    assert gave_up.value.code == "SERVICE_UNAVAILABLE" and gave_up.value.status == 503
    assert len(server.seen) == 3


def test_a_post_without_an_idempotency_key_is_never_sent_twice(server: Scripted) -> None:
    server.script = [problem(503, "SERVICE_UNAVAILABLE")]
    with Client(server.url, "key") as client, pytest.raises(ProblemError):
        client.call(create_webhook_endpoint, body={"url": "https://example.com/hooks"})
    assert len(server.seen) == 1
    assert "idempotency-key" not in server.seen[0][1]  # its operation honours none


def test_a_wait_longer_than_the_bound_is_not_waited_for(server: Scripted) -> None:
    status, headers, body = problem(429, "RATE_LIMITED")
    server.script = [(status, {**headers, "Retry-After": "3600"}, body)]
    started = time.monotonic()
    with (
        Client(server.url, "key", max_retry_wait=5) as client,
        pytest.raises(ProblemError) as limited,
    ):
        client.call(get_connection, connection_id="con_1")
    assert limited.value.code == "RATE_LIMITED" and limited.value.retry_after == "3600"
    assert len(server.seen) == 1 and time.monotonic() - started < 2


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=7), usegmt=True), now) == 7
    assert retry_after_seconds("12") == 12
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("²") is None  # a digit to str.isdigit, not to float()
    assert retry_after_seconds("Mon, 05 Jan 2026 09:00:07 -0000", now) == 7  # no zone said

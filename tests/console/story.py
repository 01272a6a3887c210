"""A tenant's connections in the states support staff meet, made through the API and the
sandbox Amazon as in production, and a webhook receiver on loopback that fails until told
to recover."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from domain.permissions import REQUIRED_SC_PERMISSIONS
from tests.conftest import LiveService, consent

SELLER = "A2SUPPORTCASE7"
OWNER = "owner@seller.example"
DECLINED_OWNER = "newseller@seller.example"


@dataclass
class Hooks:
    """Answers every webhook with `status` (500 until the test sets 200)."""

    url: str = ""
    status: int = 500
    received: list[str] = field(default_factory=list)


@contextmanager
def hooks_receiver() -> Iterator[Hooks]:
    state = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            state.received.append(self.headers.get("webhook-id", ""))
            body = b"ok" if state.status < 400 else b"receiver is down for maintenance"
            self.send_response(state.status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Story:
    wrong_permissions: dict[str, Any]  # authorized, Seller Central permissions wrong
    declined: dict[str, Any]  # invited again after the owner's attempt failed
    endpoint_id: str


def make_story(live: LiveService, tenant: str, hooks: Hooks) -> Story:
    webhooks = live.services.webhooks
    endpoint, _ = webhooks.endpoints.create(tenant, url=hooks.url, event_types=["*"])
    with live.client(tenant) as api:
        imported = api.post(
            "/v1/connections/import",
            json={
                "owner_email": OWNER,
                "region": "na",
                "marketplace_ids": ["ATVPDKIKX0DER"],
                "selling_partner_id": SELLER,
                "refresh_token": f"Atzr|sandbox-{SELLER}-console",
            },
        )
        assert imported.status_code == 201, imported.text
        cid = imported.json()["id"]
        live.clock.advance(timedelta(minutes=5))  # later steps at later instants (as-of views)
        api.post(f"/v1/connections/{cid}/invite_seller_central_user").raise_for_status()
        granted = {k: "view" for k in REQUIRED_SC_PERMISSIONS}
        api.post(
            f"/v1/connections/{cid}/confirm_seller_central_user", json={"permissions": granted}
        ).raise_for_status()
        wrong = api.get(f"/v1/connections/{cid}").json()
        live.clock.advance(timedelta(minutes=5))

        created = api.post(
            "/v1/connections",
            json={
                "owner_email": DECLINED_OWNER,
                "region": "eu",
                "marketplace_ids": ["A1PA6795UKMFR9"],
                "invited_by": {"name": "Jo Agent", "email": "jo@agency.example", "role": "agency"},
            },
        )
        assert created.status_code == 201, created.text
        did = created.json()["id"]
        started = api.post(f"/v1/connections/{did}/start_authorization").json()
        consent(api, started["consent_url"], "MARKETPLACE_NOT_PARTICIPATING")
        declined = api.get(f"/v1/connections/{did}").json()
    assert declined["state"] == "invited" and declined["last_error"]
    assert wrong["last_error"]["code"] == "SELLER_CENTRAL_PERMISSIONS_INCORRECT"
    deliver(live)
    return Story(wrong, declined, endpoint.id)


def deliver(live: LiveService) -> None:
    """One worker pass of the webhooks and the mail, as the embedded worker would."""
    live.services.webhooks.run_once()
    live.services.mail.run_once()

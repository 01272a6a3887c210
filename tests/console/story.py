"""A tenant's connections in the states support staff meet, made through the API and the
sandbox Amazon as in production, and a webhook receiver on loopback that fails until told
to recover."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain.permissions import REQUIRED_SC_PERMISSIONS
from tests.conftest import LiveService, consent
from tests.webhooks.fixtures import Receiver, scripted_receiver

SELLER = "A2SUPPORTCASE7"
OWNER = "owner@seller.example"
DECLINED_OWNER = "newseller@seller.example"


DOWN = (500, {}, "receiver is down for maintenance")  # until the integrator fixes it


@contextmanager
def hooks_receiver() -> Iterator[Receiver]:
    """The integrator's webhook endpoint, answering 500 until a test sets `otherwise` to 200."""
    with scripted_receiver() as hooks:
        hooks.otherwise = DOWN
        yield hooks


@dataclass
class Story:
    wrong_permissions: dict[str, Any]  # authorized, Seller Central permissions wrong
    declined: dict[str, Any]  # invited again after the owner's attempt failed
    endpoint_id: str


def make_story(live: LiveService, tenant: str, hooks: Receiver) -> Story:
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

"""One refusal policy (domain.refusals, recorded by service.credentials.outcomes): what
Amazon's refusal of a refresh does to a connection is the same whether a backend's token
request or the worker's daily refresh check met it; only the actor differs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.amazon import AmazonError
from adapters.clock import SettableClock
from domain.access import SP_API, AccessRefused, refusal
from domain.connection import Connection, Context
from service.api.caller import Caller
from service.container import Services, build
from service.credentials.metrics import APP_CREDENTIALS_FAILING
from service.credentials.outcomes import ACTOR as TOKEN_PATH
from service.workers.deadlines import ACTOR as WORKER
from service.workers.deadlines import RefreshHealth
from tests.conftest import START, make_settings

TENANT = "tenant_refusals"


class RefusingAmazon:
    """LWA answering every refresh with `code`; `meanwhile` runs first (another writer)."""

    def __init__(self, code: str, meanwhile: Callable[[], None] | None = None) -> None:
        self.code = code
        self.meanwhile = meanwhile
        self.refreshes = 0

    def refresh(self, refresh_token: str) -> Any:
        self.refreshes += 1
        if self.meanwhile is not None:
            self.meanwhile()
        raise AmazonError(self.code, f"LWA answered {self.code}")


@pytest.fixture
def services(sqlite_url: str) -> Iterator[Services]:
    built = build(make_settings(sqlite_url), clock=SettableClock(START))
    yield built
    built.close()


def active(services: Services) -> str:
    ctx = Context(actor="user_1", at=START, request_id="req_setup")
    c = Connection.invite(
        ctx,
        tenant_id=TENANT,
        owner_email="owner@example.com",
        region="na",
        marketplace_ids=["ATVPDKIKX0DER"],
        requires_seller_central_user=False,
    )
    c.start_authorization(ctx, "attempt", START + timedelta(minutes=15))
    c.complete_authorization(
        ctx, selling_partner_id="A1REFUSED", refresh_token_encrypted=services.box.encrypt("Atzr|x")
    )
    c.activate(ctx)
    services.connections.save(c)
    return str(c.id)


def token_request(services: Services, connection_id: str, amazon: RefusingAmazon) -> None:
    """A backend asks for an access token (the refresh it causes is refused)."""
    services.amazon.refresh = amazon.refresh  # the token path's own client
    c = services.app.load(TENANT, connection_id)
    with pytest.raises(AccessRefused):
        services.credentials.tokens.issue(c, SP_API, "req_token")


def refresh_check(services: Services, connection_id: str, amazon: RefusingAmazon) -> None:
    """The worker's daily check of the refresh token."""
    RefreshHealth(services, amazon=amazon).run_once(services.clock.now())


PATHS = [
    pytest.param(token_request, TOKEN_PATH, id="token"),
    pytest.param(refresh_check, WORKER, id="worker"),
]


def recorded(services: Services, connection_id: str) -> list[tuple[str, str, str | None]]:
    """(event, actor, code) of what the service itself recorded after the setup."""
    reader = Caller(tenant_id=TENANT, actor="test", request_id="req_read")
    found = []
    for e in services.connections.history(reader, connection_id):
        if e.meta["actor"].startswith("system:"):
            error = getattr(e, "error", None) or getattr(e, "warning", None) or {}
            found.append((type(e).__name__, e.meta["actor"], error.get("code")))
    return found


@pytest.mark.parametrize(("path", "actor"), PATHS)
def test_a_revoked_grant_marks_an_active_connection_reauth_due_once(services, path, actor):
    cid = active(services)
    path(services, cid, RefusingAmazon("ACCESS_REVOKED"))
    path(services, cid, RefusingAmazon("ACCESS_REVOKED"))

    c = services.app.load(TENANT, cid)
    assert (c.state, c.last_error["code"]) == ("reauth_due", "ACCESS_REVOKED")
    assert recorded(services, cid) == [("ReauthMarkedDue", actor, "ACCESS_REVOKED")]
    assert refusal(c, SP_API, START)[0] == "ACCESS_REVOKED"


@pytest.mark.parametrize(("path", "actor"), PATHS)
def test_a_revoked_grant_met_as_the_yearly_timer_moves_the_connection_is_still_recorded(
    services, path, actor
):
    """The timer marks it `reauth_due` (no revocation) while the refresh is under way:
    the revocation is recorded as the connection's warning, so callers are told
    ACCESS_REVOKED at once rather than each asking LWA again."""
    cid = active(services)

    def yearly_timer() -> None:
        c = services.app.load(TENANT, cid)
        c.mark_reauth_due(Context(actor="system:timer", at=START, request_id="req_timer"))
        services.connections.save(c)

    path(services, cid, RefusingAmazon("ACCESS_REVOKED", meanwhile=yearly_timer))

    c = services.app.load(TENANT, cid)
    assert (c.state, c.warning["code"]) == ("reauth_due", "ACCESS_REVOKED")
    assert recorded(services, cid) == [
        ("ReauthMarkedDue", "system:timer", None),
        ("WarningRecorded", actor, "ACCESS_REVOKED"),
    ]
    assert refusal(c, SP_API, START)[0] == "ACCESS_REVOKED"


@pytest.mark.parametrize(("path", "actor"), PATHS)
def test_amazon_being_down_warns_the_connection_and_leaves_its_state(services, path, actor):
    cid = active(services)
    path(services, cid, RefusingAmazon("AMAZON_UNAVAILABLE"))

    c = services.app.load(TENANT, cid)
    assert (c.state, c.warning["code"], c.access_revoked_at) == (
        "active",
        "AMAZON_UNAVAILABLE",
        None,
    )
    assert recorded(services, cid) == [("WarningRecorded", actor, "AMAZON_UNAVAILABLE")]


@pytest.mark.parametrize(("path", "actor"), PATHS)
def test_the_apps_own_credentials_refused_record_nothing_on_the_connection(services, path, actor):
    cid = active(services)
    APP_CREDENTIALS_FAILING.labels(SP_API).set(0)
    path(services, cid, RefusingAmazon("APP_CREDENTIALS_INVALID"))

    assert recorded(services, cid) == []
    assert services.app.load(TENANT, cid).state == "active"
    assert APP_CREDENTIALS_FAILING.labels(SP_API)._value.get() == 1
    APP_CREDENTIALS_FAILING.labels(SP_API).set(0)

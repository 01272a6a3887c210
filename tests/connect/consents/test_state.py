"""The signed state value of a consent: tampered, foreign, replayed or expired states are
refused and record nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from service.workers.deadlines import Deadlines
from tests.conftest import LiveService, new_connection
from tests.connect.consents.helpers import (
    amazon_redirect,
    assert_problem,
    callback,
    get,
    history,
    query_of,
    start,
    with_query,
)


def _event_counts(
    live: LiveService, clients: list[httpx.Client], ids: list[list[str]]
) -> tuple[Any, ...]:
    """Everything a refused callback must leave unchanged: the store's last notification,
    each tenant's event feed, and each connection's history and version."""
    per_connection = tuple(
        (len(history(client, cid)), get(client, cid)["version"])
        for client, group in zip(clients, ids, strict=True)
        for cid in group
    )
    feeds = tuple(feed_length(client) for client in clients)
    return live.services.app.recorder.max_notification_id(), feeds, per_connection


def feed_length(client: httpx.Client) -> int:
    """How many events the tenant's audit feed (`GET /v1/events`) holds."""
    count, after = 0, 0
    while True:
        page = client.get("/v1/events", params={"after": after, "limit": 1000})
        assert page.status_code == 200, page.text
        body = page.json()
        count += len(body["data"])
        if not body["has_more"]:
            return count
        after = body["next_after"]


@pytest.fixture
def pending_pair(live: LiveService, api: httpx.Client) -> Iterator[dict[str, Any]]:
    """Two connections with open consent windows (and one of another tenant), and the
    Amazon redirect for the first one, not yet followed."""
    with live.client("tenant_b") as other:
        mine = new_connection(api)["id"]
        sibling = new_connection(api)["id"]
        foreign = new_connection(other)["id"]
        consent_url = start(api, mine)["consent_url"]
        start(api, sibling)
        start(other, foreign)
        location = amazon_redirect(consent_url)
        yield {
            "mine": mine,
            "sibling": sibling,
            "foreign": foreign,
            "location": location,
            "clients": [api, other],
            "ids": [[mine, sibling], [foreign]],
        }


def _forge(location: str, state: str) -> str:
    return with_query(location, state=state)


def test_tampered_state_is_refused_and_records_nothing(live, api, pending_pair):
    location = pending_pair["location"]
    state = query_of(location)["state"]
    before = _event_counts(live, pending_pair["clients"], pending_pair["ids"])

    head, _, mac = state.rpartition(".")
    middle = len(mac) // 2
    flipped = mac[:middle] + ("A" if mac[middle] != "A" else "B") + mac[middle + 1 :]
    assert_problem(callback(_forge(location, f"{head}.{flipped}")))
    payload_tampered = state.replace(".", ".x", 1)  # the signed body changed too
    assert_problem(callback(_forge(location, payload_tampered)))
    assert_problem(callback(_forge(location, "")))

    assert _event_counts(live, pending_pair["clients"], pending_pair["ids"]) == before
    assert get(api, pending_pair["mine"])["state"] == "owner_pending"
    # The genuine redirect still works afterwards: the refusals changed nothing.
    assert callback(location).json()["state"] == "api_authorized"


def test_foreign_state_is_refused_and_records_nothing(live, api, pending_pair):
    location = pending_pair["location"]
    state = query_of(location)["state"]
    _, _, signed = state.partition(".")
    before = _event_counts(live, pending_pair["clients"], pending_pair["ids"])

    for other in (pending_pair["sibling"], pending_pair["foreign"]):
        assert_problem(callback(_forge(location, f"{other}.{signed}")))

    assert _event_counts(live, pending_pair["clients"], pending_pair["ids"]) == before
    assert get(api, pending_pair["sibling"])["state"] == "owner_pending"
    assert get(api, pending_pair["mine"])["state"] == "owner_pending"


def test_replayed_callback_is_refused_and_records_nothing(live, api, pending_pair):
    location = pending_pair["location"]
    first = callback(location)
    assert first.status_code == 200 and first.json()["state"] == "api_authorized"
    before = _event_counts(live, pending_pair["clients"], pending_pair["ids"])

    assert_problem(callback(location))

    assert _event_counts(live, pending_pair["clients"], pending_pair["ids"]) == before
    after = get(api, pending_pair["mine"])
    assert after["state"] == "api_authorized"
    assert after["last_error"] is None


def test_replayed_state_of_a_replaced_attempt_is_refused_and_records_nothing(
    live, api, pending_pair
):
    """Starting again replaces the open attempt: the older redirect matches nothing."""
    start(api, pending_pair["mine"])
    before = _event_counts(live, pending_pair["clients"], pending_pair["ids"])
    assert_problem(callback(pending_pair["location"]))
    assert _event_counts(live, pending_pair["clients"], pending_pair["ids"]) == before
    assert get(api, pending_pair["mine"])["state"] == "owner_pending"


def test_an_expired_state_records_nothing_and_the_windows_deadline_returns_to_invited(
    live, api, pending_pair
):
    """SECURITY.md: an expired state changes nothing (it used to record the failure)."""
    live.clock.advance(timedelta(minutes=16))
    before = _event_counts(live, pending_pair["clients"], pending_pair["ids"])
    assert assert_problem(callback(pending_pair["location"]))["code"] == "AUTHORIZATION_EXPIRED"
    assert _event_counts(live, pending_pair["clients"], pending_pair["ids"]) == before
    assert get(api, pending_pair["mine"])["state"] == "owner_pending"

    Deadlines(live.services).run_once(live.clock.now())
    after = get(api, pending_pair["mine"])
    assert after["state"] == "invited"
    assert after["last_error"]["code"] == "AUTHORIZATION_EXPIRED"
    assert after["selling_partner_id"] is None
    last = history(api, pending_pair["mine"])[-1]
    assert last["type"] == "connection.authorization_failed"
    assert last["actor"] != "owner"

"""One presenter: a connection version reads the same whichever way it is shown (the answer
to a create or an action, a GET now or of that version, a list), in the process that made
it and in another that renders it from the store."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5

from service.connections.presenters import event_id
from tests.conftest import LiveService, consent, new_connection, start_service


def _stored(body: dict[str, Any]) -> dict[str, Any]:
    """The body without the owner's link, which each process builds on its own address."""
    return {k: v for k, v in body.items() if k != "invitation_url"}


def test_a_created_connection_reads_the_same_in_the_create_a_get_and_a_list(
    live: LiveService, api, database_url: str
):
    created = new_connection(api, metadata={"crm": "42"})
    cid = created["id"]
    # The create's answer went through the same path a read takes, which now reuses it.
    assert live.services.connections.bodies.get(cid, created["version"]) == _stored(created)
    assert api.get(f"/v1/connections/{cid}").json() == created

    other = start_service(database_url)  # renders from the store, with no body kept
    try:
        with other.client() as elsewhere:
            assert _stored(elsewhere.get(f"/v1/connections/{cid}").json()) == _stored(created)
            listed = elsewhere.get("/v1/connections").json()["data"]
            assert [_stored(c) for c in listed if c["id"] == cid] == [_stored(created)]
    finally:
        other.stop()


def test_an_actions_answer_is_the_connection_at_its_version_and_what_the_action_adds(
    live: LiveService, api, database_url: str
):
    cid = new_connection(api)["id"]
    started = api.post(f"/v1/connections/{cid}/start_authorization").json()
    assert consent(api, started["consent_url"]).status_code == 200
    version = started["version"]
    added = {"consent_url", "expires_at"}

    other = start_service(database_url)
    try:
        with other.client() as elsewhere:
            for client in (api, elsewhere):
                read = client.get(f"/v1/connections/{cid}", params={"version": version}).json()
                assert _stored(read) == {
                    k: v for k, v in _stored(started).items() if k not in added
                }
    finally:
        other.stop()


def test_event_ids_are_the_uuid5_of_the_connection_and_version_they_always_were():
    # Ids already sent in webhooks and exports must not change with how they are computed.
    for connection in (uuid4() for _ in range(200)):
        for version in (1, 2, 17, 10_000):
            expected = f"evt_{uuid5(NAMESPACE_URL, f'{connection}/{version}').hex}"
            assert event_id(connection, version) == expected

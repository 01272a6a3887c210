"""The Python client (clients/python) against `connections serve` in sandbox mode."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import standardwebhooks
from marketplace_connections import (
    Client,
    ProblemError,
    WebhookVerificationError,
    verify_webhook,
)
from marketplace_connections.generated.api.connections import (
    activate,
    create_connection,
    get_connection,
    invite_seller_central_user,
    list_connection_events,
    list_connections,
    start_authorization,
)
from marketplace_connections.generated.api.credentials import create_access_token
from marketplace_connections.generated.api.webhooks import create_webhook_endpoint
from marketplace_connections.generated.models import (
    AccessToken,
    Connection,
    CreateConnection,
    Event,
)

from tests.clients.conftest import Receiver, Sandbox, play_owner

README = Path(__file__).resolve().parents[2] / "clients" / "python" / "README.md"


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> Client:
    with Client(sandbox.url, sandbox.api_key) as made:
        yield made


def invite(client: Client, **fields: object) -> Connection:
    body = {
        "owner_email": "owner@example.com",
        "region": "na",
        "marketplace_ids": ["ATVPDKIKX0DER"],
        **fields,
    }
    return client.call(create_connection, body=body)


def test_a_connection_walks_to_active_and_lends_a_token_and_the_proxy(client: Client) -> None:
    made = client.call(
        create_connection,
        body=CreateConnection.from_dict(
            {
                "owner_email": "walk@example.com",
                "region": "na",
                "marketplace_ids": ["ATVPDKIKX0DER"],
                "requires_seller_central_user": False,
            }
        ),
    )
    assert isinstance(made, Connection) and made.state == "invited"
    assert made.created_at.tzinfo is not None  # RFC 3339 text, parsed
    started = client.call(start_authorization, connection_id=made.id)
    assert play_owner(started.consent_url).status_code < 400
    assert client.call(get_connection, connection_id=made.id).state == "api_authorized"

    active = client.call(activate, connection_id=made.id)
    assert active.state == "active"

    token = client.call(create_access_token, connection_id=made.id, body={"api": "sp-api"})
    assert isinstance(token, AccessToken) and token.object_ == "access_token"
    assert token.access_token and token.expires_at > datetime.now(UTC)

    amazon = client.proxy(made.id, "sp-api", "GET", "/sellers/v1/marketplaceParticipations")
    assert amazon.status_code == 200
    marketplaces = {p["marketplace"]["id"] for p in amazon.json()["payload"]}
    assert "ATVPDKIKX0DER" in marketplaces

    events = list(client.pages(list_connection_events, connection_id=made.id, limit=1))
    assert all(isinstance(e, Event) for e in events)
    history = [e.type_ for e in events]
    assert history[0] == "connection.invited" and history[-1] == "connection.activated"
    assert len(history) == len(set(history)) >= 4  # one page each, none twice


def test_a_list_is_read_across_all_its_pages(client: Client) -> None:
    owner = f"pages-{uuid.uuid4().hex[:8]}@example.com"
    made = {invite(client, owner_email=owner).id for _ in range(5)}
    seen = [c.id for c in client.pages(list_connections, owner_email=owner, limit=2)]
    assert sorted(seen) == sorted(made)  # three pages, each item once


def test_a_refused_action_is_a_typed_problem_with_the_allowed_actions(client: Client) -> None:
    made = invite(client)
    with pytest.raises(ProblemError) as refused:
        client.call(activate, connection_id=made.id)
    assert refused.value.status == 409
    assert refused.value.code == "INVALID_TRANSITION"
    assert refused.value.detail
    assert "start_authorization" in refused.value.allowed_actions
    assert "activate" not in refused.value.allowed_actions

    with pytest.raises(ProblemError) as early:
        client.call(invite_seller_central_user, connection_id=made.id)
    assert early.value.code == "API_AUTHORIZATION_REQUIRED"


def test_a_given_idempotency_key_answers_a_repeat_with_the_first_connection(client: Client) -> None:
    key = str(uuid.uuid4())
    first = client.call(
        create_connection,
        idempotency_key=key,
        body={
            "owner_email": "once@example.com",
            "region": "eu",
            "marketplace_ids": ["A1PA6795UKMFR9"],
        },
    )
    again = client.call(
        create_connection,
        idempotency_key=key,
        body={
            "owner_email": "once@example.com",
            "region": "eu",
            "marketplace_ids": ["A1PA6795UKMFR9"],
        },
    )
    assert again.id == first.id


def test_a_delivered_webhook_verifies_and_a_tampered_one_is_refused(
    client: Client, receiver: Receiver
) -> None:
    endpoint = client.call(
        create_webhook_endpoint,
        body={"url": receiver.url("py"), "event_types": ["connection.invited"]},
    )
    made = invite(client, owner_email="hooked@example.com")
    delivery = receiver.wait_for("py", made.id)

    event = verify_webhook(delivery.body, delivery.headers, endpoint.secret)
    assert event.type == "connection.invited"
    assert isinstance(event.connection, Connection)
    assert event.connection.id == made.id and event.connection.version == 1
    assert event.event["type"] == "connection.invited"

    tampered = delivery.body.replace(b'"invited"', b'"active"')
    assert tampered != delivery.body
    with pytest.raises(WebhookVerificationError):
        verify_webhook(tampered, delivery.headers, endpoint.secret)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(delivery.body, delivery.headers, "whsec_" + "A" * 32)

    # Correctly signed, but sent ten minutes ago: a replay.
    old = datetime.now(UTC) - timedelta(minutes=10)
    signature = standardwebhooks.Webhook(endpoint.secret).sign(
        delivery.headers["webhook-id"], old, delivery.body.decode()
    )
    stale = {
        **delivery.headers,
        "webhook-timestamp": str(int(old.timestamp())),
        "webhook-signature": signature,
    }
    with pytest.raises(WebhookVerificationError):
        verify_webhook(delivery.body, stale, endpoint.secret)


def test_the_readme_examples_run_as_written(
    client: Client, sandbox: Sandbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = client.call(create_webhook_endpoint, body={"url": receiver.url("readme-py")})
    for name, value in {**sandbox.env(), "CONNECTIONS_WEBHOOK_SECRET": endpoint.secret}.items():
        monkeypatch.setenv(name, value)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)

    made = namespace["connection"]
    assert isinstance(made, Connection)
    delivery = receiver.wait_for("readme-py", made.id)
    assert namespace["receive"](delivery.body, delivery.headers) == 204
    assert namespace["receive"](delivery.body + b" ", delivery.headers) == 400

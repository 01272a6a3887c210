"""A script's revocation or throttle reaches every process of a sandbox deployment: two
`connections serve` processes on one store, the lever pulled on one, felt on the other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.amazon.settings import SANDBOX_LWA_CLIENT_ID, SANDBOX_LWA_CLIENT_SECRET
from tests.faults.process import ServiceProcess

SELLER = "A1SANDBOXLEVER"


@pytest.fixture
def two_processes(database_url: str, tmp_path: Path) -> Iterator[list[httpx.Client]]:
    processes = [
        ServiceProcess(database_url, tmp_path / f"serve{i}", env={"RUN_WORKER": "0"}).start()
        for i in (0, 1)
    ]
    clients = [httpx.Client(base_url=f"{p.url}/sandbox/amazon", timeout=30) for p in processes]
    yield clients
    for client in clients:
        client.close()
    for p in processes:
        p.close()


def refresh(client: httpx.Client) -> httpx.Response:
    return client.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": f"Atzr|sandbox-{SELLER}-1",
            "client_id": SANDBOX_LWA_CLIENT_ID,
            "client_secret": SANDBOX_LWA_CLIENT_SECRET,
        },
    )


def participations(client: httpx.Client, access_token: str) -> httpx.Response:
    return client.get(
        "/na/sellers/v1/marketplaceParticipations",
        headers={"x-amz-access-token": access_token},
    )


def orders(client: httpx.Client, access_token: str) -> httpx.Response:
    return client.get(
        "/na/orders/v0/orders",
        params={"MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": "2026-01-01T00:00:00Z"},
        headers={"x-amz-access-token": access_token},
    )


def test_a_revocation_on_one_process_is_refused_by_every_process(two_processes):
    first, second = two_processes
    access = refresh(second).json()["access_token"]
    assert participations(second, access).status_code == 200

    assert first.post(f"/grants/{SELLER}/revoke").json()["revoked"] is True

    for client in (first, second):
        answer = refresh(client)
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")
        assert participations(client, access).status_code == 403


def test_a_throttle_asked_of_one_process_is_spent_once_across_both(two_processes):
    first, second = two_processes
    access = refresh(first).json()["access_token"]
    thrown = first.post("/throttle", json={"selling_partner_id": SELLER, "count": 2, "rate": 0.5})
    assert thrown.status_code == 200

    answers = [orders(client, access) for client in (second, first, second)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["x-amzn-RateLimit-Limit"] == "0.5"
    assert answers[2].headers["x-amzn-RateLimit-Limit"] == "0.5"

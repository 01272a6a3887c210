"""One LWA refresh for a whole deployment: two `connections serve` processes on one
PostgreSQL, fifty concurrent requests, a counting LWA peer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import pytest

from adapters.tables.instants import iso
from service.container import Services, build
from tests.conftest import make_settings
from tests.credentials.helpers import SCOPES, active, token
from tests.credentials.lwa_peer import LwaPeer
from tests.faults.process import ServiceProcess


@pytest.fixture
def store(pg_schema_url: str) -> Iterator[Services]:
    services = build(make_settings(pg_schema_url))
    yield services
    services.close()


@pytest.fixture
def deployment(pg_schema_url: str, tmp_path: Path) -> Iterator[tuple[list[str], LwaPeer]]:
    peer = LwaPeer(upstream="", delay=0.3).start()
    # No embedded worker: its daily refresh check would be a second, unrelated refresh.
    env = {"LWA_TOKEN_URL": peer.url, "RUN_WORKER": "0"}
    processes = [
        ServiceProcess(pg_schema_url, tmp_path / f"serve{i}", env=env).start() for i in (0, 1)
    ]
    peer.upstream = f"{processes[0].url}/sandbox/amazon/auth/o2/token"
    yield [p.url for p in processes], peer
    for p in processes:
        p.close()
    peer.stop()


def test_fifty_requests_across_two_processes_make_exactly_one_lwa_refresh(deployment, store):
    (first, second), peer = deployment
    key = store.api_keys.create("tenant_a", SCOPES).secret
    headers = {"Authorization": f"Bearer {key}"}
    clients = [httpx.Client(base_url=url, headers=headers, timeout=60) for url in (first, second)]
    c = active(clients[0])

    def ask(i: int) -> httpx.Response:
        return token(clients[i % 2], c["id"])

    for round_ in range(2):
        before = peer.refreshes
        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(ask, range(50)))
        assert [a.status_code for a in answers] == [201] * 50, answers[0].text
        assert len({a.json()["access_token"] for a in answers}) == 1
        assert peer.refreshes == before + 1, f"round {round_}"
        # Make the shared token stale (two minutes left) for the second round.
        soon = iso(datetime.now(UTC) + timedelta(minutes=2))
        store.tables.execute("UPDATE {p}access_tokens SET expires_at = ?", (soon,))
    for client in clients:
        client.close()


def _soon(ask, ok, seconds: float = 2.0) -> httpx.Response:
    """`ask()` until `ok(answer)`: a process hears of another's change when PostgreSQL
    delivers the notification sent in the changing transaction (in practice at once)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = ask()
        if ok(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.005)


def test_a_change_made_through_one_process_ends_the_others_remembered_tokens(deployment, store):
    """Each process answers a token it handed out from memory; a disconnect recorded by the
    other process, or a token row changed behind both, reaches that memory."""
    (first, second), peer = deployment
    key = store.api_keys.create("tenant_a", SCOPES).secret
    headers = {"Authorization": f"Bearer {key}"}
    clients = [httpx.Client(base_url=url, headers=headers, timeout=60) for url in (first, second)]
    proxied = "/proxy/sp-api/sellers/v1/marketplaceParticipations"
    for round_ in range(3):
        c = active(clients[0])
        issued = {token(client, c["id"]).json()["access_token"] for client in clients * 2}
        assert len(issued) == 1
        if round_ == 0:  # the row changed by hand: stale now, so one refresh between both
            refreshes = peer.refreshes
            soon = iso(datetime.now(UTC) + timedelta(minutes=2))
            store.tables.execute("UPDATE {p}access_tokens SET expires_at = ?", (soon,))
            for client in clients:
                again = _soon(
                    partial(token, client, c["id"]),
                    lambda a, old=issued: a.json()["access_token"] not in old,
                )
                assert again.json()["access_token"] not in issued
            assert peer.refreshes == refreshes + 1
            continue
        writer, reader = clients[round_ % 2], clients[(round_ + 1) % 2]
        writer.post(f"/v1/connections/{c['id']}/disconnect").raise_for_status()
        refused = _soon(partial(token, reader, c["id"]), lambda a: a.status_code == 409)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "API_AUTHORIZATION_REQUIRED"
        assert reader.get(f"/v1/connections/{c['id']}{proxied}").status_code == 409
    for client in clients:
        client.close()

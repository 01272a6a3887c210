"""No secret anywhere after a full lifecycle: not in the store, the logs, API responses,
webhooks or exports."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from adapters.amazon.settings import SANDBOX_LWA_CLIENT_SECRET
from tests.api.helpers import cli
from tests.conftest import SECRET_KEY, LiveService, start_service
from tests.credentials.test_secrets_at_rest import (
    TENANT,
    Session,
    full_lifecycle,
    read_everything,
    store_contents,
)

pytest_plugins = ["tests.webhooks.fixtures"]  # receiver


@pytest.fixture
def hooked_live(database_url: str) -> Iterator[LiveService]:
    live = start_service(database_url, WEBHOOK_ALLOW_PRIVATE="1")
    yield live
    live.stop()


def needles(secrets: list[str]) -> list[str]:
    """Each secret whole, its last two thirds (past any prefix that escaping would change:
    `Atzr|` becomes `Atzr%7C`) and its longest alphanumeric run (past `+` and `/`)."""
    found = []
    for secret in secrets:
        run = max(re.findall(r"[A-Za-z0-9]+", secret), key=len)
        found += [secret, secret[len(secret) // 3 :], *([run] if len(run) >= 16 else [])]
    assert all(len(n) >= 16 for n in found), found
    return found


def leaks(haystack: str, secrets: list[str]) -> list[str]:
    lowered = haystack.lower()
    return [n for n in needles(secrets) if n in haystack or n.encode().hex() in lowered]


def test_no_secret_is_in_the_store_logs_responses_webhooks_or_exports_after_a_lifecycle(
    hooked_live, receiver, caplog, capfd, tmp_path
):
    caplog.set_level(logging.DEBUG)
    live = hooked_live
    s = Session(live)
    with s.api:
        created = s.call("POST", "/v1/webhook_endpoints", json={"url": receiver.url})
        first_secret = created["secret"]
        cid, tokens = full_lifecycle(live, s)
        rotated = s.call("POST", f"/v1/webhook_endpoints/{created['id']}/rotate_secret")
        s.call("POST", f"/v1/connections/{cid}/disconnect", json={"reason": "done"})
        while live.services.webhooks.run_once():  # deliver everything, signed by both
            pass
        read_everything(live, s, cid)
        deliveries = s.call(
            "GET", f"/v1/webhook_endpoints/{created['id']}/deliveries", params={"limit": 100}
        )
        s.call("GET", f"/v1/webhook_endpoints/{created['id']}")
        s.call("GET", "/v1/webhook_endpoints")
    api_keys = [s.api.headers["authorization"].removeprefix("Bearer ")]
    webhook_secrets = [first_secret, rotated["secret"]]
    secrets = {
        "refresh tokens": tokens,
        "authorization codes": s.codes,
        "API keys": api_keys,
        "webhook secrets": webhook_secrets,
        "LWA client secret": [SANDBOX_LWA_CLIENT_SECRET],
        "service secret key": [SECRET_KEY],
    }
    assert len(receiver.requests) >= 10 and len(deliveries["data"]) >= 10
    assert all(d["status"] == "succeeded" for d in deliveries["data"])

    # Each webhook secret was shown in exactly one response: the one that made it.
    for secret in webhook_secrets:
        assert sum(secret in answer for answer in s.received) == 1
    shown_once = [a for a in s.received if not any(w in a for w in webhook_secrets)]
    assert len(shown_once) == len(s.received) - 2

    webhooks = "\n".join(f"{r.headers} {r.body}" for r in receiver.requests)
    assert cid in webhooks and "connection.api_authorized" in webhooks
    render = logging.Formatter("%(name)s %(levelname)s %(message)s")
    out, err = capfd.readouterr()
    commands = [
        cli(live, *args, cwd=tmp_path)
        for args in (
            ("audit", "export", "--tenant", TENANT),
            ("audit", "export", "--tenant", TENANT, "--format", "csv"),
            ("api-keys", "list"),
            ("config",),
        )
    ]
    assert all(c.returncode == 0 for c in commands) and cid in commands[0].stdout
    haystacks = {
        "the store": store_contents(live),
        "API responses and exports": "\n".join(shown_once),
        "the CLI's exports and listings": "\n".join(c.stdout + c.stderr for c in commands),
        "webhooks": webhooks,
        "logs": "\n".join(render.format(r) for r in caplog.records) + out + err,
    }
    assert cid in haystacks["the store"] or cid.encode().hex() in haystacks["the store"]
    assert any("webhook delivery" in r.getMessage() for r in caplog.records)
    found = {
        (place, kind)
        for place, text in haystacks.items()
        for kind, group in secrets.items()
        if leaks(text, group)
    }
    assert found == set(), f"secrets found: {sorted(found)}"

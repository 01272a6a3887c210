"""Access tokens for backends (SPEC §9), against the sandbox and a counting LWA peer, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from service.workers.deadlines import RefreshHealth
from tests.conftest import LiveService, consent, start_service
from tests.credentials.helpers import SCOPES, active, authorized, events_of, token
from tests.credentials.lwa_peer import LwaPeer


@pytest.fixture
def peer() -> Iterator[LwaPeer]:
    lwa = LwaPeer(upstream="").start()
    yield lwa
    lwa.stop()


@pytest.fixture
def served(database_url: str, peer: LwaPeer) -> Iterator[LiveService]:
    """The service, its LWA calls going through the counting peer to the sandbox (the peer
    stands in for the Ads API's regional token hosts too, one path per region)."""
    ads_hosts = {
        f"ADS_TOKEN_URL_{region.upper()}": peer.host_url(f"/ads/{region}/auth/o2/token")
        for region in ("na", "eu", "fe")
    }
    live = start_service(
        database_url, LWA_TOKEN_URL=peer.url, RATE_LIMIT_PER_SECOND="0", **ads_hosts
    )
    peer.upstream = f"{live.url}/sandbox/amazon/auth/o2/token"
    yield live
    live.stop()


def test_a_token_is_reused_until_shortly_before_it_expires_then_refreshed_once(
    served, backend, peer
):
    c = active(backend)
    refreshes = peer.refreshes
    first = token(backend, c["id"])
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["object"] == "access_token" and body["token_type"] == "bearer"
    assert body["access_token"].startswith("Atza|")
    assert body["selling_partner_id"] == c["selling_partner_id"]
    assert body["region"] == "na" and body["marketplace_ids"] == ["ATVPDKIKX0DER"]
    assert body["endpoint"] == f"{served.url}/sandbox/amazon/na"
    assert first.headers["cache-control"] == "no-store"
    assert peer.refreshes == refreshes + 1

    served.clock.advance(timedelta(minutes=50))
    again = token(backend, c["id"]).json()
    assert again["access_token"] == body["access_token"]
    assert again["expires_at"] == body["expires_at"]
    assert peer.refreshes == refreshes + 1

    served.clock.advance(timedelta(minutes=6))  # 4 minutes left: too close to expiry
    fresh = token(backend, c["id"]).json()
    assert fresh["access_token"] != body["access_token"]
    assert peer.refreshes == refreshes + 2


def test_the_cached_token_is_stored_only_encrypted(served, backend):
    c = active(backend)
    issued = token(backend, c["id"]).json()["access_token"]
    rows = served.services.tables.query("SELECT * FROM {p}access_tokens")
    assert rows and all(issued not in str(dict(r)) for r in rows)
    assert served.services.box.decrypt(rows[0]["token_encrypted"]) == issued


def test_fifty_concurrent_requests_for_a_stale_token_make_one_lwa_refresh(served, backend, peer):
    c = active(backend)
    peer.delay = 0.3  # the refresh is in flight while the others arrive
    before = peer.refreshes
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda _: token(backend, c["id"]), range(50)))
    assert [a.status_code for a in answers] == [201] * 50
    assert len({a.json()["access_token"] for a in answers}) == 1
    assert peer.refreshes == before + 1


def test_tokens_are_refused_with_the_reason_before_authorization_and_after_disconnect(
    backend,
):
    c = backend.post(
        "/v1/connections",
        json={"owner_email": "o@example.com", "region": "na", "marketplace_ids": ["ATVPDKIKX0DER"]},
    ).json()
    refused = token(backend, c["id"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "API_AUTHORIZATION_REQUIRED"
    assert "Atza|" not in refused.text

    ads = token(backend, active(backend)["id"], api="ads")
    assert ads.status_code == 409 and ads.json()["code"] == "API_AUTHORIZATION_REQUIRED"

    gone = active(backend)
    backend.post(f"/v1/connections/{gone['id']}/disconnect").raise_for_status()
    assert token(backend, gone["id"]).json()["code"] == "API_AUTHORIZATION_REQUIRED"


def test_a_key_without_credentials_read_is_forbidden_and_another_tenant_sees_404(served):
    with served.client(scopes=SCOPES) as owner:
        c = active(owner)
    with served.client(scopes=["connections:read"]) as reader:
        assert token(reader, c["id"]).status_code == 403
    with served.client(tenant="tenant_b", scopes=SCOPES) as other:
        assert token(other, c["id"]).status_code == 404


def test_seller_central_problems_never_take_sp_api_access_away(served, backend):
    c = authorized(backend)
    assert token(backend, c["id"]).status_code == 201  # from api_authorized on
    backend.post(f"/v1/connections/{c['id']}/invite_seller_central_user").raise_for_status()
    backend.post(
        f"/v1/connections/{c['id']}/fail_seller_central_authorization",
        json={"detail": "the invite e-mail never arrived"},
    ).raise_for_status()
    assert backend.get(f"/v1/connections/{c['id']}").json()["last_error"]["code"] == (
        "SELLER_CENTRAL_AUTHORIZATION_FAILED"
    )
    served.clock.advance(timedelta(hours=2))
    assert token(backend, c["id"]).status_code == 201


def test_a_revoked_grant_marks_reauth_due_once_under_concurrency_and_answers_409(
    served, backend, peer
):
    c = active(backend)
    peer.failure = (400, "invalid_grant")
    peer.delay = 0.2
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: token(backend, c["id"]), range(20)))
    assert {a.status_code for a in answers} == {409}
    assert {a.json()["code"] for a in answers} == {"ACCESS_REVOKED"}
    assert peer.refreshes == 1
    after = backend.get(f"/v1/connections/{c['id']}").json()
    assert after["state"] == "reauth_due" and after["last_error"]["code"] == "ACCESS_REVOKED"
    due = [e for e in events_of(backend, c["id"]) if e["type"] == "connection.reauth_due"]
    assert len(due) == 1
    assert due[0]["actor"] == "system:credentials"
    # Later requests are refused from the record, without asking LWA again.
    assert token(backend, c["id"]).json()["code"] == "ACCESS_REVOKED"
    assert peer.refreshes == 1


def test_a_revocation_before_activation_is_recorded_as_the_connections_warning(backend, peer):
    c = authorized(backend)
    peer.failure = (400, "invalid_grant")
    assert token(backend, c["id"]).json()["code"] == "ACCESS_REVOKED"
    after = backend.get(f"/v1/connections/{c['id']}").json()
    assert after["state"] == "api_authorized" and after["warning"]["code"] == "ACCESS_REVOKED"
    assert token(backend, c["id"]).status_code == 409


def test_lwa_down_answers_503_with_retry_after_and_warns_the_connection_once(backend, peer):
    c = active(backend)
    peer.failure = (503, "temporarily_unavailable")
    first, second = token(backend, c["id"]), token(backend, c["id"])
    for answer in (first, second):
        assert answer.status_code == 503
        assert answer.json()["code"] == "AMAZON_UNAVAILABLE"
        assert int(answer.headers["retry-after"]) > 0
    after = backend.get(f"/v1/connections/{c['id']}").json()
    assert after["state"] == "active" and after["warning"]["code"] == "AMAZON_UNAVAILABLE"
    warnings = [e for e in events_of(backend, c["id"]) if e["type"] == "connection.warning"]
    assert len(warnings) == 1

    peer.failure = None  # Amazon is back
    assert token(backend, c["id"]).status_code == 201


def test_ads_tokens_list_every_profile_of_the_connections_marketplaces(served, backend):
    markets = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
    c = authorized(
        backend,
        requires_advertising=True,
        requires_seller_central_user=False,
        marketplace_ids=markets,
    )
    url = backend.post(f"/v1/connections/{c['id']}/start_advertising_authorization").json()
    consent(backend, url["consent_url"]).raise_for_status()
    c = backend.post(f"/v1/connections/{c['id']}/activate").json()
    profiles = c["advertising_profiles"]
    assert [p["marketplace_id"] for p in profiles] == markets

    ads = token(backend, c["id"], api="ads")
    assert ads.status_code == 201, ads.text
    body = ads.json()
    assert body["client_id"] and body["profiles"] == profiles
    assert body["endpoint"].endswith("/sandbox/amazon/ads/na")
    chosen = token(backend, c["id"], api="ads", profile_id=profiles[1]["profile_id"])
    assert chosen.status_code == 201
    unknown = token(backend, c["id"], api="ads", profile_id="12345")
    assert unknown.status_code == 422 and "profile_id" in unknown.json()["detail"]

    listed = backend.get(
        f"/v1/connections/{c['id']}/proxy/ads/v2/profiles",
        headers={"Amazon-Advertising-API-Scope": profiles[1]["profile_id"]},
    )
    assert listed.status_code == 200, listed.text
    assert {str(p["profileId"]) for p in listed.json()} >= {p["profile_id"] for p in profiles}


def metric(url: str, name: str) -> float:
    lines = httpx.get(f"{url}/metrics", timeout=10).text.splitlines()
    return float(next((line.split()[-1] for line in lines if line.startswith(name)), 0.0))


def test_lwa_refusing_the_apps_credentials_on_a_refresh_is_the_operators_problem(
    served, backend, peer, caplog
):
    c = active(backend)
    history = events_of(backend, c["id"])
    refused_refreshes = (
        'access_token_refreshes_total{api="sp-api",outcome="APP_CREDENTIALS_INVALID"}'
    )
    before = metric(served.url, refused_refreshes)
    peer.failure = (401, "invalid_client")
    with caplog.at_level(logging.DEBUG):
        refused = token(backend, c["id"])

    assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
    problem = refused.json()
    assert problem["code"] == "APP_CREDENTIALS_INVALID"
    assert "operators" in problem["detail"]
    proxied = backend.get(
        f"/v1/connections/{c['id']}/proxy/sp-api/sellers/v1/marketplaceParticipations"
    )
    assert proxied.status_code == 503 and proxied.json()["code"] == "APP_CREDENTIALS_INVALID"
    guide = backend.get("/v1/errors").json()
    entry = next(e for e in guide["data"] if e["code"] == "APP_CREDENTIALS_INVALID")
    assert entry["who_acts"] == "integrator"
    # Nothing happened to the seller's connection: same state, no warning, no new event.
    after = backend.get(f"/v1/connections/{c['id']}").json()
    assert after["state"] == "active" and after["warning"] is None
    assert after["last_error"] is None
    assert events_of(backend, c["id"]) == history
    # The operator hears of it: a metric, readiness's credentials detail, an error log.
    assert metric(served.url, 'app_credentials_invalid{api="sp-api"}') == 1.0
    assert metric(served.url, 'amazon_app_credentials_refused{client="SP-API"}') == 1.0
    assert metric(served.url, refused_refreshes) == before + 2  # the token, then the proxy
    ready = httpx.get(f"{served.url}/readyz", timeout=10)
    assert ready.status_code == 200  # a detail for the operator, not "not ready"
    amazon = ready.json()["amazon"]
    assert amazon["app_credentials"] == "refused"
    assert any("APP_CREDENTIALS_INVALID" in w for w in amazon["warnings"])
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("app credentials" in r.getMessage() for r in errors)
    connection = served.services.app.load("tenant_a", c["id"])
    secrets = [
        served.services.box.decrypt(connection.refresh_token_encrypted),
        served.services.amazon.settings.lwa_client_secret,
    ]
    logged = "\n".join(logging.Formatter("%(name)s %(message)s").format(r) for r in caplog.records)
    assert [s for s in secrets if s in logged or s in refused.text] == []

    # Fixed credentials: the next request is served and the alert clears.
    peer.failure = None
    assert token(backend, c["id"]).status_code == 201
    assert metric(served.url, 'app_credentials_invalid{api="sp-api"}') == 0.0
    assert httpx.get(f"{served.url}/readyz").json()["amazon"]["app_credentials"] == "ok"


@pytest.mark.parametrize(
    ("region", "marketplace_id"), [("eu", "A1F83G8C2ARO7P"), ("fe", "A1VC38T7YXB528")]
)
def test_an_ads_token_is_refreshed_on_the_token_host_of_the_connections_region(
    backend, peer, region, marketplace_id
):
    c = authorized(
        backend,
        region=region,
        marketplace_ids=[marketplace_id],
        requires_advertising=True,
        requires_seller_central_user=False,
    )
    url = backend.post(f"/v1/connections/{c['id']}/start_advertising_authorization").json()
    consent(backend, url["consent_url"]).raise_for_status()
    backend.post(f"/v1/connections/{c['id']}/activate").raise_for_status()
    peer.refresh_paths.clear()

    ads = token(backend, c["id"], api="ads")
    assert ads.status_code == 201, ads.text
    assert ads.json()["endpoint"].endswith(f"/sandbox/amazon/ads/{region}")
    assert peer.refresh_paths == [f"/ads/{region}/auth/o2/token"]


def test_the_daily_refresh_check_and_callers_share_the_token_cache(served, backend, peer):
    c = active(backend)
    health = RefreshHealth(served.services)
    before = peer.refreshes
    assert health.run_once(served.clock.now()) == 0 and health.checked == 1
    assert peer.refreshes == before + 1
    # The check's refresh is the token the next caller gets: one refresh, not two.
    assert token(backend, c["id"]).status_code == 201
    assert peer.refreshes == before + 1

    # A day later a caller refreshes first; the check finds that token fresh: healthy.
    served.clock.advance(timedelta(days=1))
    assert token(backend, c["id"]).status_code == 201
    assert peer.refreshes == before + 2
    assert health.run_once(served.clock.now()) == 0 and health.checked == 1
    assert peer.refreshes == before + 2
    assert backend.get(f"/v1/connections/{c['id']}").json()["state"] == "active"

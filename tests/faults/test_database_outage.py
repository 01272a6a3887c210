"""PostgreSQL unreachable under load. The service reaches PostgreSQL through a TCP proxy
that the test cuts (every connection dropped, new ones refused) and restores; with
FAULTS_RESTART_POSTGRES=1, `make test-faults` also restarts this machine's PostgreSQL.

While it is down, new requests are answered with 503 problems carrying Retry-After (after
the pool's connection timeout, 5 s), not left to hang; requests that were inside the store
when it went wait for it (the event store retries) and then finish; the service recovers
by itself, and nothing it acknowledged is lost."""

from __future__ import annotations

import os
import subprocess
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.faults import checks, figures
from tests.faults.load import Load, Outcome
from tests.faults.proxy import TcpProxy

CUTS = 3 if figures.LONG else 1
OUTAGE = 20.0 if figures.LONG else 7.0  # longer than the pool's 5 s connection timeout
STEADY = 2.0  # seconds of load before each cut and after recovery
RECOVERY = 15.0  # the service must answer again within this after PostgreSQL is back
# A new request meets the pool's 5 s connection timeout, then a 503; a request already
# inside the store waits for it (the event store retries), at most the outage plus the
# pool's reconnection backoff.
ANSWER_503_WITHIN = 7.0
IN_FLIGHT_WAIT_BEYOND_OUTAGE = 15.0
CLIENT_TIMEOUT = 60.0
RESTART = os.environ.get("FAULTS_RESTART_POSTGRES") == "1" and figures.LONG
RESTART_OUTAGE = 8.0  # others share this PostgreSQL: keep its outage short
PG_CLUSTER = os.environ.get("FAULTS_PG_CLUSTER", "15 main").split()  # see `pg_lsclusters`


def wait_for_success(load: Load, after: float, timeout: float) -> float:
    """Seconds from `after` until the first acknowledged request sent after it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ok = [
            o.started for o in load.outcomes if o.started >= after and o.status and o.status < 300
        ]
        if ok:
            return min(ok) - after
        time.sleep(0.1)
    raise AssertionError(f"no success within {timeout} s of recovery: {load.tally()}")


def assert_unavailable(outcomes: list[Outcome]) -> None:
    assert outcomes, "no request was answered while PostgreSQL was down"
    for o in outcomes:
        assert (o.status, o.code) == (503, "SERVICE_UNAVAILABLE"), o
        assert o.retry_after and int(o.retry_after) > 0, o
        assert o.seconds < ANSWER_503_WITHIN, o


def run_outages(load: Load, cut, restore, outage: float, cuts: int = CUTS) -> dict:
    """The load's clients are mostly inside the store when it goes; newcomers (the probe's
    clients, arriving during the outage) show what a request meets while it is down."""
    recoveries, during, probes = [], [], []
    for _ in range(cuts):
        time.sleep(STEADY)
        went_down = time.monotonic()
        cut()
        try:
            time.sleep(0.2)
            probe = Load(load.url, load.api_key, clients=2, timeout=load.timeout).start()
            time.sleep(outage - 0.2)
        finally:  # whatever happens, PostgreSQL comes back
            restore()
        came_back = time.monotonic()
        probes.append(probe.stop())
        during += [o for run in (load, probe) for o in run.between(went_down + 0.2, came_back)]
        recoveries.append(wait_for_success(load, came_back, RECOVERY))
    time.sleep(STEADY)
    return {"during": during, "recoveries": recoveries, "probes": probes}


def check(load: Load, store, result: dict, name: str, outage: float) -> None:
    load.stop()
    assert_unavailable(result["during"])
    everything = [o for run in (load, *result["probes"]) for o in run.outcomes]
    slowest = max(o.seconds for o in everything)
    assert slowest < outage + IN_FLIGHT_WAIT_BEYOND_OUTAGE, slowest
    assert not [o for o in everything if o.status is None], load.tally()
    last = load.between(time.monotonic() - STEADY + 0.5, time.monotonic())
    assert last and all(o.status < 300 for o in last), load.tally()
    acks = [a for run in (load, *result["probes"]) for a in run.acks]
    assert checks.lost(store, acks) == []
    tally = load.tally()
    figures.record(
        name,
        faults_injected=len(result["recoveries"]),
        outage_seconds=outage,
        requests_answered=len(everything),
        acknowledged=len(acks),
        acknowledged_lost=0,
        answered_503_while_down=len(result["during"]),
        slowest_503_seconds=round(max(o.seconds for o in result["during"]), 1),
        slowest_request_seconds=round(slowest, 1),
        recovery_seconds_max=round(max(result["recoveries"]), 2),
        version_conflicts=tally.get("VERSION_CONFLICT", 0),
    )


def test_postgres_cut_off_under_load_means_503s_then_recovery_and_nothing_lost(
    store, service_factory, pg_schema_url
):
    url = urlsplit(pg_schema_url)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 5432).start()
    user = f"{url.netloc.rpartition('@')[0]}@" if "@" in url.netloc else ""
    through_proxy = urlunsplit(url._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))
    try:
        service = service_factory(through_proxy)
        key = store.api_keys.create("tenant_db", ["connections:read", "connections:write"]).secret
        load = Load(service.url, key, timeout=CLIENT_TIMEOUT).start()
        result = run_outages(load, proxy.cut, proxy.restore, OUTAGE)
        check(load, store, result, "postgres_cut", OUTAGE)
    finally:
        proxy.stop()


@pytest.mark.skipif(
    not RESTART,
    reason="stops the machine's PostgreSQL: make test-faults with FAULTS_RESTART_POSTGRES=1",
)
def test_postgres_restarted_under_load_means_503s_then_recovery_and_nothing_lost(
    store, service_factory, pg_schema_url
):
    """The real thing, once: the cluster stopped for a while, then started again."""
    service = service_factory(pg_schema_url)
    key = store.api_keys.create("tenant_db", ["connections:read", "connections:write"]).secret
    load = Load(service.url, key, timeout=CLIENT_TIMEOUT).start()
    cluster = ["pg_ctlcluster", "--skip-systemctl-redirect", *PG_CLUSTER]
    result = run_outages(
        load,
        lambda: subprocess.run([*cluster, "stop"], check=True),
        lambda: subprocess.run([*cluster, "start"], check=True),
        RESTART_OUTAGE,
        cuts=1,
    )
    check(load, store, result, "postgres_restart", RESTART_OUTAGE)

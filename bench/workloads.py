"""Commands and reads over HTTP, each at every concurrency, beside the raw ceilings.

Every action needs connections already in its source state. Repeatable actions cycle
over ten connections per client; one-shot actions (the state moves on) use each
connection once, so each of their runs gets a fresh supply, seeded before the server
starts (its worker has projected them before the first measurement).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.config import Config
from bench.load import LoadProcess
from bench.machine import Meter
from bench.seed import Seeder
from bench.server import Server
from domain.permissions import REQUIRED_SC_PERMISSIONS

PER_CLIENT = 10  # connections each client cycles over, for repeatable actions
ONE_SHOT_RATE = 400  # one-shot connections seeded per second of a run; a faster run ends early


@dataclass(frozen=True)
class Action:
    recipe: str  # the Seeder method building the source state
    once: bool = False
    body: dict[str, Any] | None = None


ACTIONS: dict[str, Action] = {
    "resend_invitation": Action("invited"),
    "start_authorization": Action("invited"),
    "invite_seller_central_user": Action("authorized", once=True),
    "confirm_seller_central_user": Action(
        "sc_user_invited", once=True, body={"permissions": REQUIRED_SC_PERMISSIONS}
    ),
    "fail_seller_central_authorization": Action("sc_user_invited"),
    "start_advertising_authorization": Action("advertising"),
    "activate": Action("vendor_authorized", once=True),
    "start_reauthorization": Action("reauth_due"),
    "disconnect": Action("invited", once=True, body={"reason": "bench"}),
}
READ_IDS = 1_000


@dataclass
class Plan:
    """Which runs to make, and the connections seeded for each (action, clients)."""

    levels: dict[str, tuple[int, ...]]
    ids: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    read_ids: list[str] = field(default_factory=list)


def plan(config: Config) -> Plan:
    # Quick mode is a smoke run: actions at the target concurrency only.
    action_levels = (config.target_clients,) if config.quick else config.clients
    levels = {"create": config.clients, **{a: action_levels for a in ACTIONS}}
    return Plan(levels)


def seed(seeder: Seeder, p: Plan, seconds: float) -> int:
    """Seeds every run's connections; returns how many were made."""
    made = 0
    for name, action in ACTIONS.items():
        recipe: Callable = getattr(seeder, action.recipe)
        for clients in p.levels[name]:
            n = (
                max(clients, int(seconds * ONE_SHOT_RATE))
                if action.once
                else (clients * PER_CLIENT)
            )
            p.ids[(name, clients)] = seeder.many(recipe, n)
            made += n
    p.read_ids = seeder.many(seeder.invited, READ_IDS)
    return made + READ_IDS


def http_run(
    load: LoadProcess, server: Server, key: str, op: str, clients: int, seconds: float, **job: Any
) -> dict[str, Any]:
    """One measured run; the server's CPU per request rides along (the embedded worker's
    work for the run's events included). The worker has finished with the previous
    run's events first, so no backlog spills into this one."""
    settled = server.settle()
    cpu = server.cpu_seconds()
    meter = Meter([*server.pids(), load.pid])
    result = load.run(
        {
            "kind": "http",
            "op": op,
            "url": server.url,
            "api_key": key,
            "clients": clients,
            "seconds": seconds,
            **job,
        }
    )
    result["background_cores"] = meter.background_cores()
    # How far the embedded worker trailed when the run ended (events not yet projected),
    # and how long the previous run's backlog took to clear (None: it had not, in 5 min).
    result["read_model_lag_after"] = server.readiness()[0]
    result["settle_before_s"] = settled
    used = server.cpu_seconds() - cpu
    result["server_cpu_ms_per_op"] = round(used / max(result["ok"], 1) * 1000, 3)
    return result


def commands(
    load: LoadProcess,
    server: Server,
    key: str,
    p: Plan,
    seconds: float,
    progress: Callable[[str], None],
) -> dict[str, dict[int, Any]]:
    out: dict[str, dict[int, Any]] = {}
    for op, levels in p.levels.items():
        for clients in levels:
            if op == "create":
                job: dict[str, Any] = {}
                run_op = "create"
            else:
                action = ACTIONS[op]
                job = {
                    "action": op,
                    "once": action.once,
                    "body": action.body,
                    "ids": p.ids[(op, clients)],
                }
                run_op = "action"
            result = http_run(load, server, key, run_op, clients, seconds, **job)
            out.setdefault(op, {})[clients] = result
            progress(
                f"{op} x{clients}: {result['per_second']}/s p99 {result['p99_ms']} ms"
                + (f" errors {result['errors']}" if result["errors"] else "")
            )
    return out


READS = ("healthz", "get", "list")  # the trivial endpoint, one connection, a filtered list


def reads(
    load: LoadProcess,
    server: Server,
    key: str,
    p: Plan,
    config: Config,
    progress: Callable[[str], None],
) -> dict[str, dict[int, Any]]:
    out: dict[str, dict[int, Any]] = {}
    for op in READS:
        for clients in config.clients:
            result = http_run(load, server, key, op, clients, config.seconds, ids=p.read_ids)
            out.setdefault(op, {})[clients] = result
            progress(f"{op} x{clients}: {result['per_second']}/s p99 {result['p99_ms']} ms")
    return out

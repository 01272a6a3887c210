"""Commands only, against the peer's create: `python -m bench.commands` (not part of
`make bench`; about a minute). The create and action runs of `bench.http` (same servers,
same wrk script, same CPU accounting), repeated `BENCH_ROUNDS` times with the peer's
create, the service's create and its action on distinct connections back to back in each
round, then integrity (every event in the read model's index once). For comparing two
commits on a shared machine: run it from each checkout in turn and compare the CPU per
request more than the throughput.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.http import (
    BODY,
    Drained,
    Lag,
    commands_per_commit,
    ids_of,
    integrity,
    settled_run,
)
from bench.server import Peer, Server, fresh_store


def main() -> int:
    seconds = float(os.environ.get("BENCH_WRK_SECONDS", "5"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "2"))
    connections = int(os.environ.get("BENCH_WRK_CONNECTIONS", "8"))
    workers = int(os.environ.get("BENCH_SERVER_WORKERS", os.cpu_count() or 1))
    postgres = os.environ.get(
        "BENCH_DATABASE_URL",
        os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    out: dict[str, Any] = {"loadavg_start": os.getloadavg()[0], "rounds": []}
    with fresh_store("postgres", postgres) as store, tempfile.TemporaryDirectory() as tmp:
        server = Server(store.url, f"{tmp}/serve.log", workers=workers)
        peer = Peer(postgres, store.ceiling_target, f"{tmp}/peer.log", workers=workers)
        try:
            key = server.api_key()

            drained = Drained()

            def run(target: Any, method: str, path: str, secret: str, **kw: Any) -> dict:
                return settled_run(target, drained, method, path, secret, seconds, **kw)

            for n in range(rounds):
                row = {
                    "peer_create": run(
                        peer,
                        "POST",
                        "/v1/connections",
                        peer.key,
                        body=BODY,
                        connections=connections,
                    ),
                    "create": run(
                        server, "POST", "/v1/connections", key, body=BODY, connections=connections
                    ),
                }
                row["commands_per_commit"] = commands_per_commit(server.url)
                ids = Path(tmp) / f"ids{n}"
                ids_of(
                    postgres,
                    f'SELECT id FROM "{store.ceiling_target}".connections_view '
                    f"WHERE version = 1 ORDER BY created_at DESC",
                    ids,
                )
                row["action"] = run(
                    server,
                    "POST",
                    "/v1/connections/{id}/resend_invitation",
                    key,
                    ids=ids,
                    connections=connections,
                )
                out["rounds"].append(row)
                print(
                    f"round {n + 1}: "
                    + "; ".join(
                        f"{name} {r['per_second']}/s p99 {r['p99_ms']} ms "
                        f"cpu {r['server_cpu_ms_per_request']} ms"
                        for name, r in row.items()
                        if isinstance(r, dict)
                    )
                    + f"; ratios create {_ratio(row, 'create')} action {_ratio(row, 'action')}"
                    f"; commands/commit {row['commands_per_commit']}",
                    file=sys.stderr,
                    flush=True,
                )
            out["drained_s"] = Lag(postgres, store.ceiling_target).drained_after()
            server.settle()
            drained.settled(server)
            print(
                "CPU ms per request once the followers finished what each run left them: "
                + "; ".join(
                    f"round {n + 1} create {r['create'].get('server_cpu_ms_per_request_drained')}"
                    f" action {r['action'].get('server_cpu_ms_per_request_drained')}"
                    for n, r in enumerate(out["rounds"])
                ),
                file=sys.stderr,
            )
        finally:
            server.stop()
            peer.stop()
        out["integrity"] = integrity(postgres, store.ceiling_target)
    out["loadavg_end"] = os.getloadavg()[0]
    print(
        json.dumps(
            {"integrity": out["integrity"], "load": [out["loadavg_start"], out["loadavg_end"]]}
        )
    )
    return 0 if out["integrity"].get("ok", True) else 1


def _ratio(row: dict[str, Any], name: str) -> str:
    return f"{row[name]['per_second'] / row['peer_create']['per_second']:.2f}"


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m bench.peer --port N --workers 2`: the peer under uvicorn, as the service
serves (uvloop and httptools when installed, one process per worker).

Creates its tables in PEER_SCHEMA and, with --api-key, stores that key for tenant
`bench` before the workers start.
"""

from __future__ import annotations

import argparse
import hashlib
import os

import psycopg
import uvicorn


def prepare(dsn: str, schema: str, api_key: str | None) -> None:
    from bench.peer.app import DDL  # the DDL reads PEER_SCHEMA, set by then

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(DDL)
        if api_key:
            conn.execute(
                f'INSERT INTO "{schema}".peer_api_keys VALUES (%s, %s) ON CONFLICT DO NOTHING',
                (hashlib.sha256(api_key.encode()).hexdigest(), "bench"),
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--api-key")
    args = parser.parse_args()
    os.environ.setdefault("PEER_SCHEMA", "public")
    os.environ.setdefault("PEER_BASE_URL", f"http://{args.host}:{args.port}")
    prepare(os.environ["PEER_DATABASE_URL"], os.environ["PEER_SCHEMA"], args.api_key)
    uvicorn.run("bench.peer.app:app", host=args.host, port=args.port, workers=args.workers)


if __name__ == "__main__":
    main()

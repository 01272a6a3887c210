"""The service's parts in this process on a fresh PostgreSQL schema, dropped afterwards: for
the benches that measure process CPU without HTTP (bench.command_cpu, bench.erasure_cost)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bench.server import SECRET_KEY
from service.api.caller import Caller
from service.container import Services, build
from service.settings import Settings


@contextmanager
def services_on_fresh_schema(base: str) -> Iterator[Services]:
    """`build` as a server would (the worker not run), on a schema of its own at `base`."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        env = {
            "DATABASE_URL": f"{base}?schema={schema}",
            "SANDBOX": "1",
            "SECRET_KEY": SECRET_KEY,
            "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
            "RUN_WORKER": "0",
        }
        services = build(Settings.from_env(env))
        try:
            yield services
        finally:
            services.close()
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def caller(i: int) -> Caller:
    return Caller(tenant_id="tenant_bench", actor="bench", request_id=f"r{i}")

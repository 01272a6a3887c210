"""The hand-written peer: litestar, psycopg's async pool, one INSERT or SELECT per request.

The same resource and JSON as the service's `/v1/connections` (create, GET one, list newest
first with an optional state filter) and `/healthz`, on the same PostgreSQL, with what such
a service would have and nothing more: API keys checked against their SHA-256 (loaded once
at start, as the service keeps its keys in memory), the owner's signed invitation link, and
uvicorn's own access log. No event sourcing, history, outboxes, idempotency or caching.

Settings from the environment: PEER_DATABASE_URL, PEER_SCHEMA, PEER_SECRET.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import NotAuthorizedException, NotFoundException, ValidationException
from litestar.params import Parameter
from psycopg_pool import AsyncConnectionPool

SCHEMA = os.environ.get("PEER_SCHEMA", "public")
SECRET = os.environ.get("PEER_SECRET", "peer-secret").encode()
BASE = os.environ.get("PEER_BASE_URL", "http://127.0.0.1")
STATES = ("invited", "authorizing", "active", "reauth_required", "disconnected")
INVITED_ACTIONS = ["resend_invitation", "start_authorization", "disconnect"]
COLUMNS = (
    "id, state, version, region, marketplace_ids, owner_email, return_url, metadata, "
    "invitation_expires_at, created_at, updated_at"
)

DDL = f"""
CREATE TABLE IF NOT EXISTS "{SCHEMA}".peer_connections (
    id UUID PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    region TEXT NOT NULL,
    marketplace_ids JSONB NOT NULL,
    owner_email TEXT NOT NULL,
    return_url TEXT,
    metadata JSONB NOT NULL,
    invitation_expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS peer_connections_newest
    ON "{SCHEMA}".peer_connections (tenant_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS peer_connections_state_newest
    ON "{SCHEMA}".peer_connections (tenant_id, state, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS "{SCHEMA}".peer_api_keys (
    secret_sha256 TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL
);
"""


class CreateConnection(msgspec.Struct, forbid_unknown_fields=True):
    owner_email: str
    region: str
    marketplace_ids: list[str]
    return_url: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


def rfc3339(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


def invitation_url(connection_id: uuid.UUID) -> str:
    mac = hmac.new(SECRET, connection_id.bytes, hashlib.sha256).digest()
    return f"{BASE}/connect/{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def as_json(row: tuple[Any, ...]) -> dict[str, Any]:
    (id_, state, version, region, markets, email, return_url, metadata, expires, created,
     updated) = row  # fmt: skip
    return {
        "id": str(id_),
        "object": "connection",
        "state": state,
        "version": version,
        "account_type": "seller",
        "region": region,
        "marketplace_ids": markets,
        "selling_partner_id": None,
        "selling_partner_id_source": None,
        "owner_email": email,
        "invited_by": None,
        "return_url": return_url,
        "metadata": metadata,
        "requirements": {"seller_central_user": True, "advertising": False},
        "advertising": "not_required",
        "advertising_profiles": [],
        "seller_central": None,
        "allowed_actions": INVITED_ACTIONS if state == "invited" else [],
        "last_error": None,
        "warning": None,
        "authorized_at": None,
        "reauth_due_at": None,
        "lapses_at": None,
        "invitation_expires_at": rfc3339(expires),
        "last_attempt_at": None,
        "disconnect_reason": None,
        "created_at": rfc3339(created),
        "updated_at": rfc3339(updated),
        "invitation_url": None if state == "disconnected" else invitation_url(id_),
    }


def tenant_of(request: Request) -> str:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    digest = hashlib.sha256(secret.strip().encode()).hexdigest()
    tenant = request.app.state.api_keys.get(digest) if scheme.lower() == "bearer" else None
    if tenant is None:
        raise NotAuthorizedException("The API key is unknown.")
    return tenant


def pool_of(request: Request) -> AsyncConnectionPool:
    return request.app.state.pool


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@post("/v1/connections", status_code=201)
async def create(request: Request, data: CreateConnection) -> Response:
    tenant = tenant_of(request)
    if data.region not in ("na", "eu", "fe"):
        raise ValidationException("region must be one of na, eu, fe.")
    now = datetime.now(UTC)
    row = (
        uuid.uuid4(), "invited", 1, data.region, data.marketplace_ids, data.owner_email,
        data.return_url, data.metadata, now + timedelta(days=14), now, now,
    )  # fmt: skip
    async with pool_of(request).connection() as conn:
        await conn.execute(
            f"INSERT INTO peer_connections (tenant_id, {COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (tenant, *row[:4], msgspec.json.encode(row[4]).decode(), *row[5:7],
             msgspec.json.encode(row[7]).decode(), *row[8:]),
        )  # fmt: skip
    return Response(
        as_json(row),
        status_code=201,
        headers={"Location": f"/v1/connections/{row[0]}", "ETag": '"1"'},
    )


@get("/v1/connections/{connection_id:str}")
async def get_one(request: Request, connection_id: str) -> Response:
    tenant = tenant_of(request)
    try:
        key = uuid.UUID(connection_id)
    except ValueError:
        raise NotFoundException("No such connection.") from None
    async with pool_of(request).connection() as conn:
        cursor = await conn.execute(
            f"SELECT {COLUMNS} FROM peer_connections WHERE id = %s AND tenant_id = %s",
            (key, tenant),
        )
        row = await cursor.fetchone()
    if row is None:
        raise NotFoundException("No such connection.")
    return Response(as_json(row), headers={"ETag": f'"{row[2]}"'})


@get("/v1/connections")
async def list_connections(
    request: Request,
    limit: int = Parameter(default=20, ge=1, le=100),
    state_filter: str | None = Parameter(query="state", default=None),
) -> dict[str, Any]:
    tenant = tenant_of(request)
    if state_filter is not None and state_filter not in STATES:
        raise ValidationException(f"state must be one of {', '.join(STATES)}.")
    where, args = "tenant_id = %s", [tenant]
    if state_filter is not None:
        where, args = where + " AND state = %s", [*args, state_filter]
    async with pool_of(request).connection() as conn:
        cursor = await conn.execute(
            f"SELECT {COLUMNS} FROM peer_connections WHERE {where} "
            "ORDER BY created_at DESC, id DESC LIMIT %s",
            (*args, limit + 1),
        )
        rows = await cursor.fetchall()
    data = [as_json(r) for r in rows[:limit]]
    more = len(rows) > limit
    return {
        "object": "list",
        "data": data,
        "has_more": more,
        "next_cursor": data[-1]["id"] if more else None,
    }


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    pool = AsyncConnectionPool(
        os.environ["PEER_DATABASE_URL"],
        min_size=4,
        max_size=8,
        kwargs={"autocommit": True, "options": f"-c search_path={SCHEMA}"},
        open=False,
    )
    await pool.open(wait=True)
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT secret_sha256, tenant_id FROM peer_api_keys")
        app.state.api_keys = dict(await cursor.fetchall())
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


app = Litestar(
    route_handlers=[healthz, create, get_one, list_connections],
    lifespan=[lifespan],
    openapi_config=None,
)

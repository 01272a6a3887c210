"""Baseline: the service's own tables exactly as commit 0e63033 created them.

`IF NOT EXISTS` throughout, so a database those versions wrote (tables already there, no
version table yet) is adopted as it is, and a new one gets the same schema. The event
store's tables (events, snapshots, tracking) are the eventsourcing library's, not ours.

Revision 0001, the first.
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    tenant_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    headers TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE TABLE IF NOT EXISTS connections_view (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    state TEXT NOT NULL,
    region TEXT NOT NULL,
    selling_partner_id TEXT,
    owner_email TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    reauth_due_at TEXT,
    next_due_at TEXT,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS connections_view_by_tenant
    ON connections_view (tenant_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS connections_view_by_partner
    ON connections_view (tenant_id, selling_partner_id);
CREATE INDEX IF NOT EXISTS connections_view_by_state ON connections_view (state);
CREATE INDEX IF NOT EXISTS connections_view_by_deadline
    ON connections_view (next_due_at);
CREATE TABLE IF NOT EXISTS events_index (
    position BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_index_by_tenant ON events_index (tenant_id, position);
CREATE INDEX IF NOT EXISTS events_index_by_time ON events_index (tenant_id, occurred_at);
CREATE TABLE IF NOT EXISTS tenant_origins (
    tenant_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, origin)
);
CREATE TABLE IF NOT EXISTS projection_positions (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    event_types TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    secret_encrypted TEXT NOT NULL,
    previous_secret_encrypted TEXT,
    previous_secret_expires_at TEXT,
    failing_since TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_by_tenant
    ON webhook_endpoints (tenant_id, created_at);
CREATE TABLE IF NOT EXISTS webhook_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    type TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    notification_id BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_events_by_time
    ON webhook_events (tenant_id, occurred_at);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt_count INTEGER NOT NULL,
    next_attempt_at TEXT,
    lease_until TEXT,
    lease_token TEXT,
    last_status_code INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS webhook_deliveries_once_per_event
    ON webhook_deliveries (endpoint_id, event_id) WHERE origin = 'event';
CREATE INDEX IF NOT EXISTS webhook_deliveries_due
    ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_endpoint
    ON webhook_deliveries (endpoint_id, created_at, id);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    attempted_at TEXT NOT NULL,
    status_code INTEGER,
    latency_ms INTEGER NOT NULL,
    response_body TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS webhook_attempts_by_delivery
    ON webhook_attempts (delivery_id, attempted_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_finished
    ON webhook_deliveries (updated_at) WHERE status <> 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_event
    ON webhook_deliveries (event_id);
CREATE INDEX IF NOT EXISTS webhook_events_by_age
    ON webhook_events (occurred_at);
CREATE TABLE IF NOT EXISTS webhook_tracking (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_checks (
    connection_id TEXT PRIMARY KEY,
    checked_at TEXT NOT NULL,
    unavailable_since TEXT
);
CREATE INDEX IF NOT EXISTS refresh_checks_by_time ON refresh_checks (checked_at);
"""


def upgrade() -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")


TABLES = (
    "api_keys",
    "idempotency_keys",
    "connections_view",
    "events_index",
    "tenant_origins",
    "projection_positions",
    "webhook_endpoints",
    "webhook_events",
    "webhook_deliveries",
    "webhook_attempts",
    "webhook_tracking",
    "refresh_checks",
)

"""The mail outbox and its follower's tracking position, as they landed just before
migrations (commit e5fca21 created them at start-up with `CREATE TABLE IF NOT EXISTS`):
a database that already has them keeps them. On PostgreSQL their instants become
`timestamptz` and the mail's facts `jsonb`, like 0002.

Revision 0004, after 0003.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE IF NOT EXISTS mail_tracking (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS mail_outbox (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    facts TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt_count INTEGER NOT NULL,
    next_attempt_at TEXT,
    lease_until TEXT,
    lease_token TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX IF NOT EXISTS mail_outbox_due
    ON mail_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS mail_outbox_by_connection
    ON mail_outbox (tenant_id, connection_id, position);
CREATE INDEX IF NOT EXISTS mail_outbox_by_position ON mail_outbox (position);
"""
TIMESTAMPS = ("next_attempt_at", "lease_until", "created_at", "updated_at", "sent_at")


def upgrade() -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            op.execute(statement)
    if op.get_context().dialect.name == "postgresql":
        changes = [f"ALTER COLUMN {c} TYPE timestamptz USING {c}::timestamptz" for c in TIMESTAMPS]
        changes.append("ALTER COLUMN facts TYPE jsonb USING facts::jsonb")
        op.execute("ALTER TABLE mail_outbox " + ", ".join(changes))


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS mail_outbox")
    op.execute("DROP TABLE IF EXISTS mail_tracking")

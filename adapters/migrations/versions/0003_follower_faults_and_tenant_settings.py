"""Follower faults and tenant settings, the two tables that landed just before migrations.

They were created with `CREATE TABLE IF NOT EXISTS` at start-up (commits 8232eed and
5c03bb4), so this brings them as those commits made them (a database that already has
them keeps them) and then, on PostgreSQL, gives their instants `timestamptz` like 0002.

Revision 0003, after 0002.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE IF NOT EXISTS follower_faults (
    follower TEXT NOT NULL,
    position BIGINT NOT NULL,
    connection_id TEXT,
    topic TEXT NOT NULL,
    error TEXT NOT NULL,
    status TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    parked_at TEXT,
    PRIMARY KEY (follower, position)
);
CREATE TABLE IF NOT EXISTS tenant_settings (
    tenant_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    support_email TEXT,
    emails_enabled INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
"""
TIMESTAMPS = {"follower_faults": ("recorded_at", "parked_at"), "tenant_settings": ("updated_at",)}


def upgrade() -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            op.execute(statement)
    if op.get_context().dialect.name == "postgresql":
        for table, columns in TIMESTAMPS.items():
            changes = [f"ALTER COLUMN {c} TYPE timestamptz USING {c}::timestamptz" for c in columns]
            op.execute(f"ALTER TABLE {table} " + ", ".join(changes))


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS tenant_settings")
    op.execute("DROP TABLE IF EXISTS follower_faults")

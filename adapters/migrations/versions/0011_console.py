"""The console (SPEC §13): its people, their server-side sessions, the sign-in throttle,
the e-mailed sign-in links spent, and the actions taken that are no connection event
(a redelivery, a copied invitation link, a verification, an export). An index lets the
console find a connection's webhook deliveries.

Revision 0011, after 0010.
"""

import sqlalchemy as sa
from alembic import op

from adapters.migrations.columns import Timestamp

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("tenant_id", sa.Text(), primary_key=True),
        sa.Column("email", sa.Text(), primary_key=True),  # lower-cased
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text()),  # argon2id, set through a sign-in link
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("console_users_by_email", "console_users", ["email"])
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Text(), primary_key=True),  # SHA-256 of the cookie's value
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("csrf", sa.Text(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("seen_at", Timestamp, nullable=False),
    )
    op.create_index("console_sessions_by_user", "console_sessions", ["tenant_id", "email"])
    op.create_table(
        "console_sign_in_attempts",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("key", sa.Text(), nullable=False),  # a hashed address, or a client
        sa.Column("at", Timestamp, nullable=False),
    )
    op.create_index("console_sign_in_attempts_by_key", "console_sign_in_attempts", ["key", "at"])
    op.create_table(
        "console_links_spent",
        sa.Column("mail_id", sa.Text(), primary_key=True),
        sa.Column("spent_at", Timestamp, nullable=False),
    )
    op.create_table(
        "console_actions",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("connection_id", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.Column("at", Timestamp, nullable=False),
    )
    op.create_index(
        "console_actions_by_connection", "console_actions", ["tenant_id", "connection_id", "at"]
    )
    op.create_index(
        "webhook_events_by_connection", "webhook_events", ["tenant_id", "connection_id"]
    )


def downgrade() -> None:
    op.drop_index("webhook_events_by_connection", table_name="webhook_events")
    for table in (
        "console_actions",
        "console_links_spent",
        "console_sign_in_attempts",
        "console_sessions",
        "console_users",
    ):
        op.drop_table(table)

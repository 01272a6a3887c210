"""The credentials capability's tables (SPEC §9): the shared access-token cache (only
ciphertext, with the refresh lease that lets one process refresh for every process) and
the access log of every token issued and every call proxied to Amazon.

Revision 0005, after 0004.
"""

import sqlalchemy as sa
from alembic import op

from adapters.migrations.columns import Timestamp

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_tokens",
        sa.Column("connection_id", sa.Text(), primary_key=True),
        sa.Column("api", sa.Text(), primary_key=True),
        sa.Column("token_encrypted", sa.Text()),
        sa.Column("expires_at", Timestamp),
        sa.Column("refreshed_at", Timestamp),
        sa.Column("lease_holder", sa.Text()),
        sa.Column("lease_until", Timestamp),
        sa.Column("generation", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failure_code", sa.Text()),
        sa.Column("failure_detail", sa.Text()),
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("connection_id", sa.Text(), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("api_key_id", sa.Text()),
        sa.Column("api", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("request_id", sa.Text()),
        sa.Column("amazon_request_id", sa.Text()),
    )
    # Newest first per connection (GET …/access_log), and by time (export, retention).
    op.execute(
        "CREATE INDEX access_log_by_connection "
        "ON access_log (tenant_id, connection_id, at DESC, id DESC)"
    )
    op.create_index("access_log_by_time", "access_log", ["at"])


def downgrade() -> None:
    op.drop_table("access_log")
    op.drop_table("access_tokens")

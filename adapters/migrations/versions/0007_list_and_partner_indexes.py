"""Indexes for two reads that sorted or scanned: a tenant's connections in one state,
newest first (`GET /v1/connections?state=…`, which PostgreSQL answered from the state
index and then sorted every match), and a selling partner's live connections across
tenants (Amazon's Login URI, `ConnectionsViewTables.holding`).

Revision 0007, after 0006.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "connections_view_by_tenant_state",
        "connections_view",
        ["tenant_id", "state", "created_at", "id"],
    )
    op.create_index(
        "connections_view_by_partner_anywhere", "connections_view", ["selling_partner_id"]
    )


def downgrade() -> None:
    op.drop_index("connections_view_by_partner_anywhere", table_name="connections_view")
    op.drop_index("connections_view_by_tenant_state", table_name="connections_view")

"""The proxy's 403 cool-down in the store (SPEC §12): one row per connection, the time the
last refresh-and-check after Amazon's 403 was taken, so every process shares one cool-down.

Revision 0010, after 0009.
"""

import sqlalchemy as sa
from alembic import op

from adapters.migrations.columns import Timestamp

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proxy_forbidden_checks",
        sa.Column("connection_id", sa.Text(), primary_key=True),
        sa.Column("checked_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("proxy_forbidden_checks")

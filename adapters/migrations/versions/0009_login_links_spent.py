"""The Login URI's e-mailed continue links spent (SPEC §12): one row per link used, so a link
works once whichever process serves it (the first insert wins).

Revision 0009, after 0008.
"""

import sqlalchemy as sa
from alembic import op

from adapters.migrations.columns import Timestamp

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_links_spent",
        sa.Column("mail_id", sa.Text(), primary_key=True),
        sa.Column("spent_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("login_links_spent")

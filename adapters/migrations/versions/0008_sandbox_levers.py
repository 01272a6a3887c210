"""The sandbox Amazon's levers in the store (SPEC §7): which sellers' grants a script
revoked, and the 429s and rate it asked for, so every `serve` process of one deployment
answers alike (they lived in one process's memory: with `--workers 2` a revoked seller
still got answers from half the calls). Used only in sandbox mode; empty otherwise.

Revision 0008, after 0007.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_levers",
        sa.Column("selling_partner_id", sa.Text(), primary_key=True),
        sa.Column("revoked", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("throttles_left", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rate_on_429", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("rate", sa.Text()),
    )


def downgrade() -> None:
    op.drop_table("sandbox_levers")

"""Erasure (SPEC §14): each connection's data key, wrapped, until it is destroyed.

A row whose `wrapped_key` is NULL and `erased_at` set is a connection whose personal values
were erased: no key is ever made for it again. The read model is rebuilt once (its
position goes back to 0) so that its rows are written as the code now writes them: the
owner's e-mail kept only as a keyed hash, personal values in documents encrypted.

Revision 0011, after 0009.
"""

import sqlalchemy as sa
from alembic import op

from adapters.migrations.columns import Timestamp

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connection_data_keys",
        sa.Column("connection_id", sa.Text(), primary_key=True),
        sa.Column("wrapped_key", sa.Text()),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("erased_at", Timestamp),
    )
    op.execute("UPDATE projection_positions SET position = 0 WHERE name = 'connections_view'")


def downgrade() -> None:
    op.drop_table("connection_data_keys")

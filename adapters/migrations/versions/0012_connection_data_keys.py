"""Erasure (SPEC §14): data keys, each sealing one connection's personal values, wrapped,
until an erasure destroys it (`wrapped_key` NULL, `erased_at` set). Keys are made ahead of
use; a connection's sealed values name their key, so `connection_id` is only filled where
nothing else says whose a key is (adapters.tables.data_keys). The read model is rebuilt once (its
position goes back to 0) so that its rows are written as the code now writes them: the
owner's e-mail kept only as a keyed hash, personal values in documents encrypted.

Revision 0012, after 0011.
"""

import sqlalchemy as sa
from alembic import op

from adapters.migrations.columns import Timestamp

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connection_data_keys",
        sa.Column("key_id", sa.Text(), primary_key=True),
        sa.Column("connection_id", sa.Text()),
        sa.Column("wrapped_key", sa.Text()),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("erased_at", Timestamp),
    )
    op.create_index("connection_data_keys_by_connection", "connection_data_keys", ["connection_id"])
    op.execute("UPDATE projection_positions SET position = 0 WHERE name = 'connections_view'")


def downgrade() -> None:
    op.drop_table("connection_data_keys")

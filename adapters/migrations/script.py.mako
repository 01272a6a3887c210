"""${message}

Revision ${up_revision}, after ${down_revision | comma,n}.
"""

import sqlalchemy as sa  # noqa: F401 - sa.Text(), sa.Column(...)
from alembic import op

from adapters.migrations.columns import Json, Timestamp  # noqa: F401 - for new columns

revision = "${up_revision}"
down_revision = "${down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}

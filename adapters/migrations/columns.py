"""Column types for new migrations: each store's native type for the same value.

The service writes timestamps as ISO-8601 UTC text and JSON as text on both stores;
PostgreSQL stores them as `timestamptz` and `jsonb` (and `adapters.tables.postgres`
reads them back as that same text), SQLite as TEXT.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

Timestamp = sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
Json = sa.Text().with_variant(postgresql.JSONB(), "postgresql")

"""PostgreSQL dialect of this service's tables (same schema as the event store)."""

from typing import Any

from adapters.tables import Tables


class PostgresTables(Tables):
    placeholder = "%s"
    schema_lock = "SELECT pg_advisory_xact_lock(4242001)"
    # Claimed rows stay locked until the claim commits; other workers skip them.
    skip_locked = " FOR UPDATE OF {alias} SKIP LOCKED"

    def __init__(self, datastore: Any) -> None:
        super().__init__(datastore)
        self.prefix = f'"{datastore.schema}".'


TABLES_CLASS = PostgresTables

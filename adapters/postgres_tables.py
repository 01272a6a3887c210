"""PostgreSQL dialect of this service's tables (same schema as the event store)."""

from typing import Any

from psycopg import sql

from adapters.tables import Tables


class PostgresTables(Tables):
    placeholder = "%s"
    schema_lock = "SELECT pg_advisory_xact_lock(4242001)"
    # Claimed rows stay locked until the claim commits; other workers skip them.
    skip_locked = " FOR UPDATE OF {alias} SKIP LOCKED"

    def __init__(self, datastore: Any) -> None:
        super().__init__(datastore)
        self.prefix = f'"{datastore.schema}".'

    def wake_on(self, channel: str) -> None:
        self.wake_statement = sql.SQL("NOTIFY {}").format(sql.Identifier(channel)).as_string()


TABLES_CLASS = PostgresTables

"""PostgreSQL dialect of this service's tables (same schema as the event store)."""

from typing import Any

from adapters.tables import Tables


class PostgresTables(Tables):
    placeholder = "%s"

    def __init__(self, datastore: Any) -> None:
        super().__init__(datastore)
        self.prefix = f'"{datastore.schema}".'


TABLES_CLASS = PostgresTables

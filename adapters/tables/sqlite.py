"""SQLite dialect of this service's tables."""

from adapters.tables.base import Tables


class SQLiteTables(Tables):
    placeholder = "?"
    prefix = ""


TABLES_CLASS = SQLiteTables

"""SQLite dialect of this service's tables."""

from adapters.tables import Tables


class SQLiteTables(Tables):
    placeholder = "?"
    prefix = ""


TABLES_CLASS = SQLiteTables

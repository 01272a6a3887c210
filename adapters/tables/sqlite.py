"""SQLite dialect of this service's tables."""

from adapters.tables.base import Tables
from adapters.tables.erasure import SQLiteErasureTables


class SQLiteTables(Tables):
    placeholder = "?"
    prefix = ""


TABLES_CLASS = SQLiteTables
ERASURE_CLASS = SQLiteErasureTables

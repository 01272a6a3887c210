"""The console's sessions, sign-in throttle and spent sign-in links (migration 0011).

All three live in the store, not in a process: a session opened by one `serve` process is
honoured (and ended) by every other, and the throttle counts every process's attempts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from adapters.tables.dialect import Dialect


@dataclass(frozen=True)
class SessionRow:
    id: str
    tenant_id: str
    email: str
    csrf: str
    created_at: str
    seen_at: str


class ConsoleSessionTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    def open(self, row: SessionRow) -> None:
        self.t.execute(
            "INSERT INTO {p}console_sessions (id, tenant_id, email, csrf, created_at, seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (row.id, row.tenant_id, row.email, row.csrf, row.created_at, row.seen_at),
        )

    def get(self, session_id: str) -> SessionRow | None:
        rows = self.t.query("SELECT * FROM {p}console_sessions WHERE id = ?", (session_id,))
        return (
            SessionRow(**{k: rows[0][k] for k in SessionRow.__dataclass_fields__}) if rows else None
        )

    def seen(self, session_id: str, at: str) -> None:
        self.t.execute("UPDATE {p}console_sessions SET seen_at = ? WHERE id = ?", (at, session_id))

    def close(self, session_id: str) -> None:
        self.t.execute("DELETE FROM {p}console_sessions WHERE id = ?", (session_id,))

    def close_idle(self, before: str) -> int:
        rows = self.t.execute(
            "DELETE FROM {p}console_sessions WHERE seen_at < ? RETURNING id", (before,)
        )
        return len(rows)

    # ------------------------------------------------------------------ throttle

    def attempt(self, key: str, at: str, since: str, limit: int) -> bool:
        """Counts an attempt under `key` and answers whether it is within `limit` attempts
        since `since` (this one included). Older attempts are dropped on the way."""
        with self.t.transaction(commit=True) as c:
            # Every key's attempts older than the window: the table holds one window at most.
            c.execute(self.t.sql("DELETE FROM {p}console_sign_in_attempts WHERE at < ?"), (since,))
            c.execute(
                self.t.sql(
                    "INSERT INTO {p}console_sign_in_attempts (id, key, at) VALUES (?, ?, ?)"
                ),
                (secrets.token_hex(12), key, at),
            )
            c.execute(
                self.t.sql(
                    "SELECT COUNT(*) AS n FROM {p}console_sign_in_attempts "
                    "WHERE key = ? AND at >= ?"
                ),
                (key, since),
            )
            return int(_first(c.fetchall())) <= limit

    # --------------------------------------------------------------- sign-in links

    def link_spent(self, mail_id: str) -> bool:
        rows = self.t.query(
            "SELECT mail_id FROM {p}console_links_spent WHERE mail_id = ?", (mail_id,)
        )
        return bool(rows)

    def spend_link(self, mail_id: str, at: str) -> bool:
        """True for the first use of the sign-in link mailed as `mail_id`, False ever after."""
        rows = self.t.execute(
            "INSERT INTO {p}console_links_spent (mail_id, spent_at) VALUES (?, ?) "
            "ON CONFLICT (mail_id) DO NOTHING RETURNING mail_id",
            (mail_id, at),
        )
        return bool(rows)


def _first(rows: list[Any]) -> Any:
    row = rows[0]
    return row["n"] if hasattr(row, "keys") else row[0]

"""This service's own tables, beside the event store in the same database.

Their schema is the migrations' (`adapters/migrations`, README "Adding a migration").
One SQL text serves SQLite and PostgreSQL: the dialect modules (`sqlite_tables`,
`postgres_tables`) only say how to open a transaction, how to write a placeholder and
which schema to use. Timestamps travel as ISO-8601 UTC text, which sorts as time; SQLite
stores that text, PostgreSQL stores `timestamptz` (and `jsonb` for JSON documents) and
reads them back as the same text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def iso(at: datetime | None) -> str | None:
    """Fixed-width UTC text, so string order is time order in both databases."""
    return None if at is None else at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    tenant_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class Tables:
    """Base for the dialect classes; subclasses set `placeholder`, `prefix`, `transaction`."""

    placeholder = "?"
    prefix = ""
    skip_locked = ""  # SQLite has a single writer: a plain UPDATE … RETURNING claims
    # Run in a transaction that queued work, to wake workers in other processes
    # (PostgreSQL: NOTIFY on the event store's channel, see adapters.wakeup).
    wake_statement: str | None = None
    # Where revocations of API keys are announced to other processes (PostgreSQL's
    # NOTIFY); None where there is no such channel.
    api_key_channel: str | None = None

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def wake_on(self, channel: str) -> None:
        """Sets `wake_statement` for the database's notification `channel`, if it has them."""

    def sql(self, text: str) -> str:
        text = text.replace("{p}", self.prefix)
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    def execute(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.transaction(commit=True) as c:
            c.execute(self.sql(text), tuple(params))
            return rows_of(c)

    def query(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.transaction(commit=False) as c:
            c.execute(self.sql(text), tuple(params))
            return rows_of(c)

    # ---------------------------------------------------------------- API keys

    def insert_api_key(self, record: ApiKeyRecord, key_hash: str) -> None:
        self.execute(
            "INSERT INTO {p}api_keys (id, tenant_id, name, key_hash, scopes, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.tenant_id,
                record.name,
                key_hash,
                " ".join(record.scopes),
                record.created_at,
            ),
        )

    def api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        rows = self.query("SELECT * FROM {p}api_keys WHERE key_hash = ?", (key_hash,))
        return _api_key(rows[0]) if rows else None

    def api_keys(self, tenant_id: str | None = None) -> list[ApiKeyRecord]:
        if tenant_id is None:
            rows = self.query("SELECT * FROM {p}api_keys ORDER BY created_at")
        else:
            rows = self.query(
                "SELECT * FROM {p}api_keys WHERE tenant_id = ? ORDER BY created_at", (tenant_id,)
            )
        return [_api_key(r) for r in rows]

    def touch_api_key(self, key_id: str, at: str) -> None:
        self.execute("UPDATE {p}api_keys SET last_used_at = ? WHERE id = ?", (at, key_id))

    def revoke_api_key(self, key_id: str, at: str) -> bool:
        rows = self.execute(
            "UPDATE {p}api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL "
            "RETURNING id",
            (at, key_id),
        )
        return bool(rows)

    # ---------------------------------------------------------- tenant origins
    # Where a connection's `return_url` may send the owner's browser back to.

    def allow_origin(self, tenant_id: str, origin: str, at: str) -> bool:
        """False when the origin was already registered."""
        rows = self.execute(
            "INSERT INTO {p}tenant_origins (tenant_id, origin, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING origin",
            (tenant_id, origin, at),
        )
        return bool(rows)

    def remove_origin(self, tenant_id: str, origin: str) -> bool:
        rows = self.execute(
            "DELETE FROM {p}tenant_origins WHERE tenant_id = ? AND origin = ? RETURNING origin",
            (tenant_id, origin),
        )
        return bool(rows)

    def origins(self, tenant_id: str | None = None) -> list[tuple[str, str]]:
        """(tenant, origin) pairs, by tenant then origin."""
        where, params = ("WHERE tenant_id = ? ", (tenant_id,)) if tenant_id else ("", ())
        rows = self.query(
            "SELECT tenant_id, origin FROM {p}tenant_origins "
            + where
            + "ORDER BY tenant_id, origin",
            params,
        )
        return [(r["tenant_id"], r["origin"]) for r in rows]

    # ------------------------------------------------------------- idempotency
    # A key is reserved (status 0) before the request runs, so two concurrent requests
    # with one key cannot both execute; the response is stored when it completes.

    def reserve_idempotency_key(self, tenant_id: str, key: str, fingerprint: str, at: str) -> bool:
        rows = self.execute(
            "INSERT INTO {p}idempotency_keys "
            "(tenant_id, key, fingerprint, status, body, headers, created_at) "
            "VALUES (?, ?, ?, 0, '', '{}', ?) ON CONFLICT DO NOTHING RETURNING key",
            (tenant_id, key, fingerprint, at),
        )
        return bool(rows)

    def idempotent_response(self, tenant_id: str, key: str) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT fingerprint, status, body, headers, created_at FROM {p}idempotency_keys "
            "WHERE tenant_id = ? AND key = ?",
            (tenant_id, key),
        )
        if not rows:
            return None
        row = rows[0]
        return {
            "fingerprint": row["fingerprint"],
            "status": row["status"],
            "body": row["body"],
            "headers": json.loads(row["headers"]),
            "created_at": row["created_at"],
        }

    def complete_idempotency_key(
        self, tenant_id: str, key: str, status: int, body: str, headers: dict[str, str]
    ) -> None:
        self.execute(
            "UPDATE {p}idempotency_keys SET status = ?, body = ?, headers = ? "
            "WHERE tenant_id = ? AND key = ?",
            (status, body, json.dumps(headers), tenant_id, key),
        )

    def release_idempotency_key(self, tenant_id: str, key: str) -> None:
        self.execute(
            "DELETE FROM {p}idempotency_keys WHERE tenant_id = ? AND key = ? AND status = 0",
            (tenant_id, key),
        )


# ---------------------------------------------------------- tracking positions
# Every follower of the log keeps its position in a (name, position) table and moves it
# with this compare-and-set, in the transaction that writes what it derived.


def advance(t: Tables, cursor: Any, table: str, name: str, expected: int, new: int) -> bool:
    """Inside the caller's transaction: moves `name`'s position in `table` (name,
    position) from `expected` to `new`. False when another process moved it first."""
    if expected == 0:
        cursor.execute(
            t.sql(
                f"INSERT INTO {{p}}{table} (name, position) VALUES (?, 0) ON CONFLICT DO NOTHING"
            ),
            (name,),
        )
    cursor.execute(
        t.sql(
            f"UPDATE {{p}}{table} SET position = ? WHERE name = ? AND position = ? RETURNING name"
        ),
        (new, name, expected),
    )
    return bool(rows_of(cursor))


def position(t: Tables, table: str, name: str) -> int:
    rows = t.query(f"SELECT position FROM {{p}}{table} WHERE name = ?", (name,))
    return int(rows[0]["position"]) if rows else 0


def rows_of(cursor: Any) -> list[Any]:
    # psycopg has no result set for plain statements; SQLite just returns no rows.
    if getattr(cursor, "description", True) is None:
        return []
    return list(cursor.fetchall())


def _api_key(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        scopes=tuple(row["scopes"].split()),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


@dataclass(frozen=True)
class ViewRow:
    id: str
    tenant_id: str
    state: str
    region: str
    selling_partner_id: str | None
    owner_email: str
    version: int
    created_at: str
    updated_at: str
    reauth_due_at: str | None
    next_due_at: str | None
    document: str


@dataclass(frozen=True)
class EventRow:
    position: int
    tenant_id: str
    connection_id: str
    version: int
    occurred_at: str
    document: str


@dataclass(frozen=True)
class ListQuery:
    tenant_id: str
    limit: int = 20
    starting_after: tuple[str, str] | None = None  # (created_at, id) of the cursor row
    state: str | None = None
    region: str | None = None
    selling_partner_id: str | None = None
    owner_email: str | None = None
    reauth_due_before: str | None = None


class ConnectionsViewTables:
    """The connections read model: one row per connection, kept by a projection."""

    def __init__(self, tables: Tables) -> None:
        self.t = tables

    def position(self, name: str) -> int:
        return position(self.t, "projection_positions", name)

    def rows(self, ids: Sequence[str]) -> list[ViewRow]:
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        rows = self.t.query(
            f"SELECT * FROM {{p}}connections_view WHERE id IN ({marks})", tuple(ids)
        )
        return [_view_row(r) for r in rows]

    def apply(
        self,
        name: str,
        expected: int,
        new: int,
        rows: Sequence[ViewRow],
        events: Sequence[EventRow] = (),
    ) -> bool:
        """Moves the projection from `expected` to `new` and writes `rows` and `events`,
        atomically. False (and nothing written) when another process moved it first."""
        with self.t.transaction(commit=True) as c:
            if not advance(self.t, c, "projection_positions", name, expected, new):
                return False
            statement = self.t.sql(
                "INSERT INTO {p}connections_view (id, tenant_id, state, region, "
                "selling_partner_id, owner_email, version, created_at, updated_at, "
                "reauth_due_at, next_due_at, document) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
                "selling_partner_id = excluded.selling_partner_id, version = excluded.version, "
                "updated_at = excluded.updated_at, reauth_due_at = excluded.reauth_due_at, "
                "next_due_at = excluded.next_due_at, document = excluded.document"
            )
            # One executemany per table: psycopg pipelines it (one round trip per batch).
            c.executemany(
                statement,
                [
                    (
                        r.id,
                        r.tenant_id,
                        r.state,
                        r.region,
                        r.selling_partner_id,
                        r.owner_email,
                        r.version,
                        r.created_at,
                        r.updated_at,
                        r.reauth_due_at,
                        r.next_due_at,
                        r.document,
                    )
                    for r in rows
                ],
            )
            statement = self.t.sql(
                "INSERT INTO {p}events_index (position, tenant_id, connection_id, version, "
                "occurred_at, document) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (position) DO UPDATE SET document = excluded.document"
            )
            c.executemany(
                statement,
                [
                    (e.position, e.tenant_id, e.connection_id, e.version, e.occurred_at, e.document)
                    for e in events
                ],
            )
            return True

    def rewind(self, name: str) -> None:
        """Start the projection again from the first event. Rows stay readable meanwhile
        and are overwritten as their events are applied again."""
        self.t.execute("UPDATE {p}projection_positions SET position = 0 WHERE name = ?", (name,))

    def events(
        self,
        tenant_id: str,
        *,
        after: int = 0,
        limit: int = 100,
        occurred_from: str | None = None,
        occurred_to: str | None = None,
    ) -> list[EventRow]:
        where, params = ["tenant_id = ?", "position > ?"], [tenant_id, after]
        if occurred_from is not None:
            where.append("occurred_at >= ?")
            params.append(occurred_from)
        if occurred_to is not None:
            where.append("occurred_at < ?")
            params.append(occurred_to)
        rows = self.t.query(
            "SELECT * FROM {p}events_index WHERE "
            + " AND ".join(where)
            + " ORDER BY position LIMIT ?",
            (*params, limit),
        )
        return [EventRow(**{k: r[k] for k in EventRow.__dataclass_fields__}) for r in rows]

    def all_ids(self) -> list[str]:
        return [r["id"] for r in self.t.query("SELECT id FROM {p}connections_view ORDER BY id")]

    def get(self, tenant_id: str, connection_id: str) -> ViewRow | None:
        rows = self.t.query(
            "SELECT * FROM {p}connections_view WHERE id = ? AND tenant_id = ?",
            (connection_id, tenant_id),
        )
        return _view_row(rows[0]) if rows else None

    def list(self, q: ListQuery) -> list[ViewRow]:
        where, params = ["tenant_id = ?"], [q.tenant_id]
        for column in ("state", "region", "selling_partner_id", "owner_email"):
            value = getattr(q, column)
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if q.reauth_due_before is not None:
            where.append("reauth_due_at IS NOT NULL AND reauth_due_at < ?")
            params.append(q.reauth_due_before)
        if q.starting_after is not None:
            where.append("(created_at < ? OR (created_at = ? AND id < ?))")
            params.extend([q.starting_after[0], q.starting_after[0], q.starting_after[1]])
        rows = self.t.query(
            "SELECT * FROM {p}connections_view WHERE "
            + " AND ".join(where)
            + " ORDER BY created_at DESC, id DESC LIMIT ?",
            (*params, q.limit),
        )
        return [_view_row(r) for r in rows]

    def connected_elsewhere(
        self, tenant_id: str, selling_partner_id: str, connection_id: str
    ) -> str | None:
        """Another live connection of this tenant holding the same selling partner."""
        rows = self.t.query(
            "SELECT id FROM {p}connections_view WHERE tenant_id = ? AND selling_partner_id = ? "
            "AND id <> ? AND state <> 'disconnected' LIMIT 1",
            (tenant_id, selling_partner_id, connection_id),
        )
        return rows[0]["id"] if rows else None

    def holding(self, selling_partner_id: str) -> list[str]:
        """Ids of every tenant's live connections of that selling partner (Login URI)."""
        rows = self.t.query(
            "SELECT id FROM {p}connections_view WHERE selling_partner_id = ? "
            "AND state <> 'disconnected' ORDER BY created_at, id",
            (selling_partner_id,),
        )
        return [r["id"] for r in rows]

    def due_by(self, at: str, limit: int = 500) -> list[str]:
        """Ids of connections with a deadline at or before `at`, earliest first."""
        rows = self.t.query(
            "SELECT id FROM {p}connections_view WHERE next_due_at <= ? "
            "ORDER BY next_due_at LIMIT ?",
            (at, limit),
        )
        return [r["id"] for r in rows]

    def count_by_state(self) -> dict[str, int]:
        rows = self.t.query("SELECT state, COUNT(*) AS n FROM {p}connections_view GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}


def _view_row(row: Any) -> ViewRow:
    return ViewRow(**{k: row[k] for k in ViewRow.__dataclass_fields__})

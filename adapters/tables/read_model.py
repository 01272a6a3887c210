"""The connections read model: one row per connection (`connections_view`) and the
tenant's event feed (`events_index`), kept by a projection that moves its tracking
position in the transaction that writes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.crypto import lookup_hash
from adapters.tables.dialect import Dialect
from adapters.tables.listing import Listing
from adapters.tables.tracking import advance, position
from domain.personal import ERASED


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

    def __init__(self, tables: Dialect, owner_email_pepper: bytes = b"") -> None:
        self.t = tables
        # `owner_email` is kept as a keyed hash (SPEC §14: an e-mail's plain hash can be
        # reversed by guessing), enough for the list's exact-match filter.
        self.owner_email_pepper = owner_email_pepper

    def owner_email_key(self, owner_email: str) -> str:
        # An erased row keeps the marker itself, which no looked-up address hashes to.
        if owner_email == ERASED:
            return ERASED
        return lookup_hash(self.owner_email_pepper, owner_email)

    def position(self, name: str) -> int:
        return position(self.t, "projection_positions", name)

    def rows(self, ids: Sequence[str]) -> list[ViewRow]:
        if not ids:
            return []
        among, params = self.t.one_of("id", ids)
        rows = self.t.query(f"SELECT * FROM {{p}}connections_view WHERE {among}", params)
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
                "owner_email = excluded.owner_email, "
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
                        self.owner_email_key(r.owner_email),
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
        rows = (
            Listing("SELECT * FROM {p}events_index")
            .where("tenant_id = ?", tenant_id)
            .oldest_first("position", after)
            .within("occurred_at", occurred_from, occurred_to)
            .page(self.t, limit)
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
        return [_view_row(r) for r in self.t.query(*self.list_statement(q))]

    async def page_async(self, reads: Any, q: ListQuery) -> tuple[int, list[tuple[str, int]]]:
        """The log's head and the page's `(id, version)`s, newest first, in one statement
        on the event loop through `reads` (adapters.tables.async_reads): one snapshot, so
        the page is the read model as of that head. No documents: the caller has most
        pages' bodies rendered already, and asks `rows_async` for the others."""
        page, params = self.list_statement(q, "id, version, created_at")
        rows = await reads.query(
            f"SELECT h.head, v.id, v.version FROM ({reads.head_statement}) h "
            f"LEFT JOIN LATERAL ({page}) v ON TRUE ORDER BY v.created_at DESC, v.id DESC",
            params,
        )
        head = rows[0]["head"] or 0
        return head, [(r["id"], r["version"]) for r in rows if r["id"] is not None]

    async def rows_async(self, reads: Any, connection_ids: list[str]) -> dict[str, ViewRow]:
        rows = await reads.query(
            "SELECT * FROM {p}connections_view WHERE id = ANY(?)", (connection_ids,)
        )
        return {r["id"]: _view_row(r) for r in rows}

    def list_statement(self, q: ListQuery, columns: str = "*") -> tuple[str, tuple[Any, ...]]:
        listing = Listing(f"SELECT {columns} FROM {{p}}connections_view")
        listing.where("tenant_id = ?", q.tenant_id)
        for column in ("state", "region", "selling_partner_id"):
            listing.where(f"{column} = ?", getattr(q, column))
        if q.owner_email is not None:
            listing.where("owner_email = ?", self.owner_email_key(q.owner_email))
        listing.where("reauth_due_at IS NOT NULL AND reauth_due_at < ?", q.reauth_due_before)
        return listing.newest_first("created_at", "id", q.starting_after).statement(q.limit)

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

    def disconnected_before(self, cutoff: str, limit: int = 100) -> list[str]:
        """Ids of connections disconnected (their last change) at or before `cutoff` and
        not erased yet, oldest first."""
        rows = self.t.query(
            "SELECT id FROM {p}connections_view WHERE state = 'disconnected' "
            "AND updated_at <= ? AND owner_email <> ? ORDER BY updated_at LIMIT ?",
            (cutoff, ERASED, limit),
        )
        return [r["id"] for r in rows]

    def count_by_state(self) -> dict[str, int]:
        rows = self.t.query("SELECT state, COUNT(*) AS n FROM {p}connections_view GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}


def _view_row(row: Any) -> ViewRow:
    return ViewRow(**{k: row[k] for k in ViewRow.__dataclass_fields__})

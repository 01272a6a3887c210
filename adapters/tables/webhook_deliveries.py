"""Webhook deliveries and their attempts: the dispatcher claims due deliveries, sends
them and finishes each with an attempt; finished ones are pruned after the retention.

The one dialect difference is how a dispatcher claims work: PostgreSQL locks the rows it
claims and skips rows another worker holds (`FOR UPDATE SKIP LOCKED`); SQLite has a single
writer, so its `UPDATE … RETURNING` is already an exclusive claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.tables.dialect import Dialect, rows_of
from adapters.tables.listing import Listing
from adapters.tables.webhook_endpoints import ENDPOINT_COLUMNS, EndpointRow, endpoint_of

INSERT_DELIVERY = (
    "INSERT INTO {p}webhook_deliveries (id, tenant_id, endpoint_id, event_id, origin, status, "
    "attempt_count, next_attempt_at, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)"
)
_SELECT_DELIVERY = (
    "SELECT d.*, ev.type AS event_type FROM {p}webhook_deliveries d "
    "JOIN {p}webhook_events ev ON ev.id = d.event_id "
)


@dataclass(frozen=True)
class DeliveryRow:
    id: str
    tenant_id: str
    endpoint_id: str
    event_id: str
    origin: str
    status: str
    attempt_count: int
    next_attempt_at: str | None
    last_status_code: int | None
    created_at: str
    updated_at: str
    event_type: str


@dataclass(frozen=True)
class AttemptRow:
    id: str
    delivery_id: str
    attempted_at: str
    status_code: int | None
    latency_ms: int
    response_body: str | None
    error: str | None


@dataclass(frozen=True)
class Claimed:
    """A leased delivery with what sending it needs."""

    delivery: DeliveryRow
    endpoint: EndpointRow
    body: str
    lease_token: str


class WebhookDeliveryTables:
    def __init__(self, tables: Dialect) -> None:
        self.t = tables

    @property
    def _row_lock(self) -> str:
        return self.t.skip_locked.format(alias="d")

    def add_deliveries(
        self,
        tenant_id: str,
        endpoint_id: str,
        event_ids: Sequence[str],
        origin: str,
        at: str,
        new_id: Any,
    ) -> list[str]:
        """Deliveries asked for by a person (redelivery, replay): always new rows."""
        ids = [new_id() for _ in event_ids]
        if not ids:
            return ids
        with self.t.transaction(commit=True) as c:
            c.executemany(
                self.t.sql(INSERT_DELIVERY),
                [
                    (delivery_id, tenant_id, endpoint_id, event_id, origin, at, at, at)
                    for delivery_id, event_id in zip(ids, event_ids, strict=True)
                ],
            )
            if self.t.wake_statement:  # workers in other processes: there is work
                c.execute(self.t.wake_statement)
        return ids

    def delivery(self, tenant_id: str, delivery_id: str) -> DeliveryRow | None:
        rows = self.t.query(
            _SELECT_DELIVERY + "WHERE d.id = ? AND d.tenant_id = ?", (delivery_id, tenant_id)
        )
        return _delivery(rows[0]) if rows else None

    def deliveries(
        self,
        endpoint_id: str,
        limit: int,
        starting_after: DeliveryRow | None = None,
        status: str | None = None,
    ) -> list[DeliveryRow]:
        before = None if starting_after is None else (starting_after.created_at, starting_after.id)
        rows = (
            Listing(_SELECT_DELIVERY.rstrip())
            .where("d.endpoint_id = ?", endpoint_id)
            .where("d.status = ?", status)
            .newest_first("d.created_at", "d.id", before)
            .page(self.t, limit)
        )
        return [_delivery(r) for r in rows]

    def attempts(self, delivery_ids: Sequence[str]) -> list[AttemptRow]:
        if not delivery_ids:
            return []
        marks = ", ".join("?" for _ in delivery_ids)
        rows = self.t.query(
            f"SELECT * FROM {{p}}webhook_attempts WHERE delivery_id IN "
            f"({marks}) ORDER BY attempted_at, id",
            tuple(delivery_ids),
        )
        return [AttemptRow(**{k: r[k] for k in AttemptRow.__dataclass_fields__}) for r in rows]

    def claim(
        self,
        now: str,
        lease_until: str,
        token: str,
        *,
        limit: int,
        per_endpoint: int,
        in_flight: Mapping[str, int] | None = None,
    ) -> list[Claimed]:
        """Leases due deliveries of enabled endpoints, so that no endpoint has more than
        `per_endpoint` in flight counting the `in_flight` sends already under way; an
        expired lease (a worker that died) is claimable."""
        in_flight = {e: n for e, n in (in_flight or {}).items() if n > 0}
        full = [e for e, n in in_flight.items() if n >= per_endpoint]
        skip = ""
        if full:
            skip = f"AND d.endpoint_id NOT IN ({', '.join('?' for _ in full)}) "
        # ('', 0) keeps the VALUES list non-empty; no endpoint id is empty.
        busy = [("", 0), *in_flight.items()]
        self.t.execute(
            "WITH busy (endpoint_id, n) AS (VALUES "
            + ", ".join("(?, ?)" for _ in busy)
            + "), due AS (SELECT d.id, d.endpoint_id, d.next_attempt_at "
            "FROM {p}webhook_deliveries d JOIN {p}webhook_endpoints e ON e.id = d.endpoint_id "
            "WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND e.enabled = 1 "
            "AND (d.lease_until IS NULL OR d.lease_until <= ?) "
            + skip
            + "ORDER BY d.next_attempt_at LIMIT ?"
            + self._row_lock
            + "), "
            "ranked AS (SELECT due.id, COALESCE(busy.n, 0) + ROW_NUMBER() OVER "
            "(PARTITION BY due.endpoint_id ORDER BY due.next_attempt_at, due.id) AS n "
            "FROM due LEFT JOIN busy ON busy.endpoint_id = due.endpoint_id) "
            "UPDATE {p}webhook_deliveries SET lease_until = ?, lease_token = ? "
            "WHERE id IN (SELECT id FROM ranked WHERE n <= ?) RETURNING id",
            (
                *[v for pair in busy for v in pair],
                now,
                now,
                *full,
                limit,
                lease_until,
                token,
                per_endpoint,
            ),
        )
        rows = self.t.query(
            "SELECT d.*, ev.type AS event_type, ev.body AS body, "
            + ", ".join(f"e.{c} AS ep_{c}" for c in ENDPOINT_COLUMNS.split(", "))
            + " FROM {p}webhook_deliveries d JOIN {p}webhook_events ev ON ev.id = d.event_id "
            "JOIN {p}webhook_endpoints e ON e.id = d.endpoint_id WHERE d.lease_token = ?",
            (token,),
        )
        return [
            Claimed(
                delivery=_delivery(r),
                endpoint=endpoint_of(_prefixed(r, "ep_")),
                body=r["body"],
                lease_token=token,
            )
            for r in rows
        ]

    def finish(
        self,
        claimed: Claimed,
        attempt: AttemptRow,
        *,
        status: str,
        next_attempt_at: str | None,
        disable: tuple[str, str] | None,
    ) -> None:
        """Records an attempt and its consequences in one transaction. The delivery is
        updated only while this worker's lease still holds (a stale worker's late result
        is logged as an attempt but does not move the delivery). `disable` None clears the
        endpoint's failing streak; (reason, cutoff) starts it, and disables the endpoint
        for `reason` when the streak began at or before `cutoff`."""
        d = claimed.delivery
        with self.t.transaction(commit=True) as c:
            c.execute(
                self.t.sql(
                    "UPDATE {p}webhook_deliveries SET status = ?, "
                    "attempt_count = attempt_count + 1, "
                    "next_attempt_at = ?, lease_until = NULL, lease_token = NULL, "
                    "last_status_code = ?, updated_at = ? WHERE id = ? AND lease_token = ? "
                    "RETURNING id"
                ),
                (
                    status,
                    next_attempt_at,
                    attempt.status_code,
                    attempt.attempted_at,
                    d.id,
                    claimed.lease_token,
                ),
            )
            if not rows_of(c):  # the lease lapsed: record the attempt, if the delivery is left
                c.execute(self.t.sql("SELECT id FROM {p}webhook_deliveries WHERE id = ?"), (d.id,))
                if not rows_of(c):
                    return  # the endpoint was deleted while this attempt was in flight
            c.execute(
                self.t.sql(
                    "INSERT INTO {p}webhook_attempts (id, delivery_id, attempted_at, status_code, "
                    "latency_ms, response_body, error) VALUES (?, ?, ?, ?, ?, ?, ?)"
                ),
                (
                    attempt.id,
                    d.id,
                    attempt.attempted_at,
                    attempt.status_code,
                    attempt.latency_ms,
                    attempt.response_body,
                    attempt.error,
                ),
            )
            at = attempt.attempted_at
            if disable is None:
                c.execute(
                    self.t.sql(
                        "UPDATE {p}webhook_endpoints SET failing_since = NULL "
                        "WHERE id = ? AND failing_since IS NOT NULL"
                    ),
                    (d.endpoint_id,),
                )
                return
            c.execute(
                self.t.sql(
                    "UPDATE {p}webhook_endpoints SET failing_since = "
                    "COALESCE(failing_since, ?) WHERE id = ?"
                ),
                (at, d.endpoint_id),
            )
            reason, cutoff = disable
            c.execute(
                self.t.sql(
                    "UPDATE {p}webhook_endpoints SET enabled = 0, disabled_reason = ?, "
                    "updated_at = ? "
                    "WHERE id = ? AND enabled = 1 AND failing_since <= ?"
                ),
                (reason, at, d.endpoint_id, cutoff),
            )

    def prune(self, before: str, limit: int) -> int:
        """Deletes up to `limit` deliveries finished before `before` with their attempts,
        then events older than that with no delivery left (a pending one keeps its event);
        returns how many deliveries and events went. One short transaction a batch."""
        with self.t.transaction(commit=True) as c:
            c.execute(
                self.t.sql(
                    "SELECT id FROM {p}webhook_deliveries WHERE status <> 'pending' "
                    "AND updated_at < ? ORDER BY updated_at LIMIT ?"
                ),
                (before, limit),
            )
            ids = [(r["id"],) for r in rows_of(c)]
            if ids:
                for table, column in (
                    ("webhook_attempts", "delivery_id"),
                    ("webhook_deliveries", "id"),
                ):
                    c.executemany(self.t.sql(f"DELETE FROM {{p}}{table} WHERE {column} = ?"), ids)
            c.execute(
                self.t.sql(
                    "DELETE FROM {p}webhook_events WHERE id IN (SELECT e.id FROM "
                    "{p}webhook_events e WHERE e.occurred_at < ? AND NOT EXISTS "
                    "(SELECT 1 FROM {p}webhook_deliveries d WHERE d.event_id = e.id) "
                    "ORDER BY e.occurred_at LIMIT ?) RETURNING id"
                ),
                (before, limit),
            )
            return len(ids) + len(rows_of(c))


def _prefixed(row: Any, prefix: str) -> dict[str, Any]:
    # sqlite3.Row iterates over values, so its keys must be asked for.
    return {k[len(prefix) :]: row[k] for k in row.keys() if k.startswith(prefix)}


def _delivery(row: Any) -> DeliveryRow:
    return DeliveryRow(**{k: row[k] for k in DeliveryRow.__dataclass_fields__})

"""The access log: who used which connection's Amazon access, when, and what Amazon said.

Amazon's Data Protection Policy asks developers to log access to Amazon information; each
entry names the API key, the API, the operation (a path template, never a query or body),
Amazon's status and request id, never a token. Entries are written after the answer is
known and kept for ACCESS_LOG_RETENTION.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from random import getrandbits
from typing import Any

from adapters.tables.access_log import AccessLogTables
from adapters.tables.instants import iso
from domain.exceptions import ValidationFailed
from service.api.caller import Caller
from service.api.exports import csv_line
from service.connections.presenters import rfc3339

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 60.0


def api_key_id(caller: Caller) -> str | None:
    """`api_key:<tenant>/<key id>` → the key id."""
    kind, _, rest = caller.actor.partition(":")
    return rest.rpartition("/")[2] if kind == "api_key" else None


# Identifiers inside SP-API and Ads paths (order ids, ASINs, SKUs, report ids, profile
# ids…) are replaced by `{id}` so the log holds operations, not data.
_ID_SEGMENT = re.compile(r"^(?=.*\d)[A-Za-z0-9._~%-]{6,}$|^\d+$")
_SEGMENT_VERSION = re.compile(r"^v\d+$|^\d{4}-\d{2}-\d{2}$")


@functools.lru_cache(maxsize=4096)  # asked twice per proxied call; paths repeat
def operation_of(path: str) -> str:
    """`/orders/v0/orders/902-3159896-1390916/address` → `/orders/v0/orders/{id}/address`."""
    parts = []
    for segment in path.split("/"):
        if segment and not _SEGMENT_VERSION.match(segment) and _ID_SEGMENT.match(segment):
            parts.append("{id}")
        else:
            parts.append(segment)
    return "/".join(parts)[:300]


def entry_id() -> str:
    """Sorts in the order entries were written (wall time first), so entries stamped
    with the same instant still list newest first; 48 bits from the process's generator
    (no system call: an id, not a secret) keep entries of the same nanosecond apart."""
    return f"acc_{time.time_ns():016x}{getrandbits(48):012x}"


class AccessLog:
    """Entries are written in batches by a background thread, at most `FLUSH_SECONDS`
    after the answer (a commit per request would cost SQLite a disk sync each, more than
    the cached token itself); reads of the log flush this process's entries first, and
    closing flushes the rest. A process killed outright loses at most that last moment."""

    FLUSH_SECONDS = 0.05

    def __init__(self, tables: AccessLogTables, clock: Any, retention: timedelta) -> None:
        self.tables = tables
        self.clock = clock
        self.retention = retention
        self._purged_at = 0.0
        self._pending: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                log.exception("access log: writing a batch failed; it is retried")

    def flush(self) -> None:
        """Writes what is buffered; returns once everything recorded before the call is
        in the store (a batch the background thread is writing included)."""
        with self._writing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                self.tables.log(batch)
            except Exception:
                with self._lock:
                    self._pending[:0] = batch  # kept for the next try, in order
                raise

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self._thread.join(5)
        self.flush()

    def record(
        self,
        caller: Caller,
        connection_id: str,
        *,
        at: datetime,
        api: str,
        kind: str,
        method: str,
        operation: str,
        status: int,
        outcome: str,
        duration: float,
        amazon_request_id: str | None = None,
    ) -> None:
        entry = (  # in the columns' order (adapters.tables.access_log.COLUMNS)
            entry_id(),
            caller.tenant_id,
            connection_id,
            iso(at),
            api_key_id(caller),
            api,
            kind,
            method,
            operation,
            status,
            outcome,
            round(duration * 1000, 3),
            caller.request_id,
            amazon_request_id,
        )
        with self._lock:
            self._pending.append(entry)

    def page(
        self, tenant_id: str, connection_id: str | None, limit: int, starting_after: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        self.flush()
        before = None
        if starting_after is not None:
            before = self.tables.entry_at(tenant_id, starting_after)
            if before is None:
                raise ValidationFailed("starting_after names no access log entry.")
        rows = self.tables.entries(tenant_id, connection_id, limit=limit + 1, before=before)
        return [entry_json(r) for r in rows[:limit]], len(rows) > limit

    def export_lines(
        self, tenant_id: str, occurred_from: str | None, occurred_to: str | None, fmt: str
    ) -> Iterator[str]:
        """The audit export's access lines, after its events: in CSV the events' columns
        (no position or version; `type` is `access.<kind>`, `data` the rest)."""
        self.flush()
        before = None
        while True:
            rows = self.tables.entries(
                tenant_id, None, limit=500, before=before, since=occurred_from, until=occurred_to
            )
            for row in rows:
                entry = entry_json(row)
                if fmt == "csv":
                    data = {k: entry[k] for k in _CSV_DATA}
                    yield csv_line(
                        [
                            "",
                            entry["id"],
                            entry["connection_id"],
                            "",
                            f"access.{entry['kind']}",
                            entry["at"],
                            f"api_key:{tenant_id}/{entry['api_key_id']}",
                            entry["request_id"] or "",
                            json.dumps(data, separators=(",", ":")),
                        ]
                    )
                else:
                    yield json.dumps(entry, separators=(",", ":")) + "\n"
            if len(rows) < 500:
                return
            before = (rows[-1]["at"], rows[-1]["id"])

    def purge(self) -> int:
        """Drops entries past the retention; at most once a minute per process."""
        if time.monotonic() - self._purged_at < PURGE_EVERY_SECONDS:
            return 0
        self._purged_at = time.monotonic()
        self.flush()
        return self.tables.purge(iso(self.clock.now() - self.retention) or "")


_CSV_DATA = ("api", "method", "operation", "status", "outcome", "duration_ms", "amazon_request_id")


def entry_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "access_log_entry",
        "connection_id": row["connection_id"],
        "at": rfc3339(datetime.fromisoformat(row["at"])),
        "api_key_id": row["api_key_id"],
        "api": row["api"],
        "kind": row["kind"],
        "method": row["method"],
        "operation": row["operation"],
        "status": row["status"],
        "outcome": row["outcome"],
        "duration_ms": row["duration_ms"],
        "request_id": row["request_id"],
        "amazon_request_id": row["amazon_request_id"],
    }

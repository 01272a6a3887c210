"""One timeline per connection, newest first: its lifecycle events, the webhook
deliveries of those events (every attempt and the endpoint's answer), the e-mails sent
about it, its access-log entries (runs of the same call grouped), and what was done in the
console that is no event (a redelivery, a copied link, a verification, an export)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from service.connections.presenters import event_json

EVENTS, DELIVERIES, MAILS, ACCESS = 1_000, 100, 100, 500
_QUIET = {"tenant_id", "durations", "attempt", "consent_attempt"}


@dataclass
class Entry:
    kind: str  # "event" | "delivery" | "mail" | "access" | "console"
    at: datetime
    title: str
    actor: str | None = None
    lines: list[str] = field(default_factory=list)
    status: str | None = None  # "ok" | "failed" | "pending"
    delivery_id: str | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0  # orders entries of one instant: a later version first


def instant(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def lifecycle(events: list[Any]) -> list[Entry]:
    entries = []
    for e in events:
        body = event_json(e)
        lines = [
            f"{k}: {_short(v)}"
            for k, v in sorted(body["data"].items())
            if k not in _QUIET and v not in (None, "", [], {})
        ]
        entries.append(
            Entry(
                "event",
                instant(body["occurred_at"]) or datetime.now(UTC),
                f"{body['type']} (version {body['version']})",
                actor=body["actor"],
                lines=lines,
                seq=body["version"],
            )
        )
    return entries


def deliveries(rows: list[dict[str, Any]], attempts: list[Any]) -> list[Entry]:
    by_delivery: dict[str, list[Any]] = {}
    for a in attempts:
        by_delivery.setdefault(a.delivery_id, []).append(a)
    entries = []
    for d in rows:
        tries = [
            {
                "at": instant(a.attempted_at),
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "answer": _short(a.response_body or a.error or "", 160),
                "ok": a.status_code is not None and 200 <= a.status_code < 300,
            }
            for a in by_delivery.get(d["id"], [])
        ]
        status = {"succeeded": "ok", "failed": "failed"}.get(d["status"], "pending")
        lines = [f"to {d['endpoint_url'] or d['endpoint_id']}", f"{d['attempt_count']} attempt(s)"]
        if d["origin"] != "event":
            lines.append(f"a {d['origin']}")
        if d["status"] == "pending" and d["next_attempt_at"]:
            lines.append(f"next attempt {d['next_attempt_at'][:19].replace('T', ' ')} UTC")
        entries.append(
            Entry(
                "delivery",
                instant(d["created_at"]) or datetime.now(UTC),
                f"Webhook {d['event_type']}: {d['status']}",
                lines=lines,
                status=status,
                delivery_id=d["id"],
                attempts=tries,
            )
        )
    return entries


def mails(rows: list[Any]) -> list[Entry]:
    entries = []
    for m in rows:
        lines = [f"to {m.recipient}", f"{m.attempt_count} attempt(s)"]
        if m.last_error:
            lines.append(f"why: {m.last_error}")
        status = {"sent": "ok", "kept": "ok", "failed": "failed"}.get(m.status, "pending")
        entries.append(
            Entry(
                "mail",
                instant(m.sent_at or m.created_at) or datetime.now(UTC),
                f"E-mail {m.kind.replace('_', ' ')}: {m.status}",
                lines=lines,
                status=status,
            )
        )
    return entries


def access(rows: list[dict[str, Any]]) -> list[Entry]:
    """Runs of the same call (kind, API, method, operation, status) become one entry."""
    entries: list[Entry] = []
    runs: list[tuple[tuple[Any, ...], list[dict[str, Any]]]] = []
    for row in sorted(rows, key=lambda r: r["at"]):
        key = (row["kind"], row["api"], row["method"], row["operation"], row["status"])
        if runs and runs[-1][0] == key:
            runs[-1][1].append(row)
        else:
            runs.append((key, [row]))
    for (kind, api, method, operation, status), run in runs:
        first, last = instant(run[0]["at"]), instant(run[-1]["at"])
        what = (
            "access token issued" if kind == "access_token" else f"{method or ''} {operation or ''}"
        )
        title = f"{len(run)} times: {api} {what}".replace("  ", " ")
        lines = [f"Amazon's status: {status}"] if status else []
        if len(run) > 1 and first and last:
            lines.append(f"from {first:%H:%M:%S} to {last:%H:%M:%S} UTC")
        keys = sorted({r["api_key_id"] for r in run if r.get("api_key_id")})
        if keys:
            lines.append(f"API key {', '.join(keys)}")
        ok = status is None or (isinstance(status, int) and status < 400)
        entries.append(
            Entry(
                "access",
                last or datetime.now(UTC),
                title,
                lines=lines,
                status="ok" if ok else "failed",
            )
        )
    return entries


def console_actions(rows: list[dict[str, Any]]) -> list[Entry]:
    return [
        Entry(
            "console",
            instant(r["at"]) or datetime.now(UTC),
            r["action"].replace("_", " ").capitalize(),
            actor=r["actor"],
            lines=[r["detail"]] if r["detail"] else [],
        )
        for r in rows
    ]


def merged(*groups: list[Entry]) -> list[Entry]:
    return sorted((e for g in groups for e in g), key=lambda e: (e.at, e.seq), reverse=True)


def _short(value: Any, at_most: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= at_most else text[: at_most - 1] + "…"

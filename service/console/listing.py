"""The connection list: search, filters, newest first with a cursor, and the funnel.

Search and the state and region filters are the read model's own query; the error code
and "needs attention" are read from each connection (its last_error is inside the stored
document), so a page of those is filtered as it is read, at most SCAN rows per page: a
page that stopped there says so and continues from where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from adapters.tables.instants import iso
from adapters.tables.read_model import ListQuery
from domain import lifecycle as lc

REGIONS = {"na": "North America", "eu": "Europe", "fe": "Far East"}
PAGE = 25
SCAN = 2_000
BATCH = 200
REAUTH_SOON = timedelta(days=30)
PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}
FUNNEL = (
    lc.INVITED,
    lc.OWNER_PENDING,
    lc.API_AUTHORIZED,
    lc.SC_USER_INVITED,
    lc.PERMISSIONS_VERIFIED,
    lc.ACTIVE,
)
_STAGE = {**{s: i for i, s in enumerate(FUNNEL)}, lc.REAUTH_DUE: FUNNEL.index(lc.ACTIVE)}


@dataclass(frozen=True)
class Filters:
    q: str = ""
    state: str = ""
    region: str = ""
    error: str = ""
    attention: bool = False
    after: str = ""
    period: str = "30"

    @property
    def python_side(self) -> bool:
        return bool(self.error or self.attention)


@dataclass
class Found:
    rows: list[dict[str, Any]] = field(default_factory=list)
    next_after: str | None = None
    stopped_scanning: bool = False


def _query(tenant_id: str, f: Filters, cursor: tuple[str, str] | None, limit: int) -> ListQuery:
    q = f.q.strip()
    spid = owner = None
    if q and "@" in q:
        owner = q
    elif q:
        spid = q.upper()
    return ListQuery(
        tenant_id=tenant_id,
        limit=limit,
        starting_after=cursor,
        state=f.state or None,
        region=f.region or None,
        selling_partner_id=spid,
        owner_email=owner,
    )


def attention_of(c: Any, stuck: set[str], now: datetime) -> list[str]:
    """Why a connection needs someone's attention, in words; [] when it does not."""
    why = []
    if c.last_error and c.state != lc.DISCONNECTED:
        why.append(f"last error {c.last_error.get('code')}")
    if c.state != lc.DISCONNECTED and c.reauth_due_at and c.reauth_due_at <= now + REAUTH_SOON:
        why.append("re-authorization due within 30 days")
    if str(c.id) in stuck:
        why.append("a webhook delivery is stuck")
    return why


def search(services: Any, tenant_id: str, f: Filters, now: datetime) -> Found:
    view, views = services.connections.fresh_view(), services.console.views
    found = Found()
    q = f.q.strip()
    if _is_uuid(q):  # a connection id: that one, or nothing
        row = view.get(tenant_id, q.lower())
        rows = [row] if row is not None else []
        conns = [services.projection.from_row(r) for r in rows]
        stuck = views.with_stuck_deliveries(tenant_id, [r.id for r in rows])
        found.rows = [_item(c, stuck, now) for c in conns if _matches(c, f, stuck, now)]
        return found
    cursor = None
    if f.after:
        at = view.get(tenant_id, f.after)
        cursor = (at.created_at, at.id) if at is not None else None
    batch = BATCH if f.python_side else PAGE + 1
    scanned, exhausted, last = 0, False, None
    while len(found.rows) <= PAGE and scanned < SCAN:
        rows = view.list(_query(tenant_id, f, cursor, batch))
        conns = [services.projection.from_row(r) for r in rows]
        stuck = views.with_stuck_deliveries(tenant_id, [r.id for r in rows])
        for row, c in zip(rows, conns, strict=True):
            scanned, cursor, last = scanned + 1, (row.created_at, row.id), row.id
            if _matches(c, f, stuck, now):
                found.rows.append(_item(c, stuck, now))
                if len(found.rows) > PAGE:
                    break
        if len(rows) < batch:
            exhausted = True
            break
    if len(found.rows) > PAGE:
        found.rows = found.rows[:PAGE]
        found.next_after = found.rows[-1]["id"]
    elif not exhausted and last is not None:
        found.next_after, found.stopped_scanning = last, True
    return found


def _matches(c: Any, f: Filters, stuck: set[str], now: datetime) -> bool:
    if (f.state and c.state != f.state) or (f.region and c.region != f.region):
        return False
    if f.error and (c.last_error or {}).get("code") != f.error:
        return False
    return not (f.attention and not attention_of(c, stuck, now))


def _item(c: Any, stuck: set[str], now: datetime) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "state": c.state,
        "region": c.region,
        "selling_partner_id": c.selling_partner_id,
        "owner_email": c.owner_email,
        "error": (c.last_error or {}).get("code"),
        "attention": attention_of(c, stuck, now),
        "created_at": c.created_on,
    }


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return len(text) >= 32


def funnel(services: Any, tenant_id: str, period: str, now: datetime) -> dict[str, Any]:
    """Connections created in the period, by where they are now: how many are at or past
    each step from `invited` to `active`, and how many ended."""
    days = PERIODS.get(period, 30)
    counts = services.console.views.states_created_between(
        tenant_id, iso(now - timedelta(days=days)) or "", iso(now + timedelta(seconds=1)) or ""
    )
    total = sum(counts.values())
    steps = []
    for i, state in enumerate(FUNNEL):
        n = sum(v for s, v in counts.items() if _STAGE.get(s, -1) >= i)
        share = round(100 * n / total) if total else 0
        steps.append({"state": state, "count": n, "share": share, "bar": 5 * round(share / 5)})
    return {
        "days": days,
        "total": total,
        "steps": steps,
        "ended": counts.get(lc.DISCONNECTED, 0),
        "counts": counts,
    }

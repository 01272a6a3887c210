"""JSON shapes of connections and events: what the API, webhooks and exports show.

`connection_json` is the one presenter of a connection; the API reaches it through
`Bodies`, once per version, whether it answers a create, an action, a read or a list.
Secrets never get here: ciphertext fields are left out by name.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from hashlib import sha1
from typing import Any
from uuid import NAMESPACE_URL, UUID

from domain.connection import SECRET_FIELDS, Connection, event_type


def rfc3339(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k not in SECRET_FIELDS}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def connection_json(c: Connection) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "object": "connection",
        "state": c.state,
        "version": c.version,
        "account_type": c.account_type,
        "region": c.region,
        "marketplace_ids": list(c.marketplace_ids),
        "selling_partner_id": c.selling_partner_id,
        "selling_partner_id_source": c.selling_partner_id_source,
        "owner_email": c.owner_email,
        "invited_by": c.invited_by,
        "return_url": c.return_url,
        "metadata": dict(c.metadata),
        "requirements": {
            "seller_central_user": c.requires_seller_central_user,
            "advertising": c.requires_advertising,
        },
        "advertising": c.advertising,
        "advertising_profiles": [dict(p) for p in c.advertising_profiles],
        "seller_central": _jsonable(c.seller_central),
        "allowed_actions": c.allowed_actions,
        "last_error": _jsonable(c.last_error),
        "warning": _jsonable(c.warning),
        "authorized_at": rfc3339(c.authorized_at),
        "reauth_due_at": rfc3339(c.reauth_due_at),
        "lapses_at": rfc3339(c.lapses_at),
        "invitation_expires_at": rfc3339(c.invitation_expires_at),
        "last_attempt_at": rfc3339(c.last_attempt_at),
        "disconnect_reason": c.disconnect_reason,
        "created_at": rfc3339(c.created_on),
        "updated_at": rfc3339(c.modified_on),
    }


class Bodies:
    """The API's JSON of recently shown connection versions. A version never changes, so
    neither does its body (`allowed_actions` included: it follows from the state and the
    requirements alone). Bodies are shared: whoever gets one must not change it."""

    def __init__(self, at_most: int = 5_000) -> None:
        self.at_most = at_most
        self._bodies: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, connection_id: str, version: int) -> dict[str, Any] | None:
        return self._bodies.get((connection_id, version))

    def of(self, connection: Connection) -> dict[str, Any]:
        """`connection_json(connection)`, rendered once per version."""
        body = self.get(str(connection.id), connection.version)
        # A version rendered before its connection was erased (in any process) shows the
        # values the store no longer opens: rendered again, erased.
        if body is None or body["owner_email"] != connection.owner_email:
            return self.put(connection)
        return body

    def forget(self, connection_id: str) -> None:
        """Every version of the connection (after its erasure: they showed its values)."""
        with self._guard:
            for key in [k for k in self._bodies if k[0] == connection_id]:
                del self._bodies[key]

    def put(self, connection: Connection) -> dict[str, Any]:
        body = connection_json(connection)
        with self._guard:
            self._bodies[(body["id"], body["version"])] = body
            while len(self._bodies) > self.at_most:
                self._bodies.popitem(last=False)
        return body


_EVENT_NAMESPACE = NAMESPACE_URL.bytes


def event_id(originator_id: UUID, version: int) -> str:
    """A stable id per event, the same in history, webhooks and exports: the hex of
    `uuid5(NAMESPACE_URL, f"{originator_id}/{version}")`, computed as RFC 9562 §5.5 does
    (SHA-1 of the namespace and the name, version and variant bits set) without building
    the UUID objects: every follower names every event (about half the cost)."""
    digest = bytearray(sha1(_EVENT_NAMESPACE + f"{originator_id}/{version}".encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC's variant
    return "evt_" + digest[:16].hex()


_ENVELOPE = {"originator_id", "originator_version", "originator_topic", "timestamp", "meta"}


def event_json(e: Any) -> dict[str, Any]:
    meta = e.meta or {}
    data = {k: v for k, v in e.__dict__.items() if k not in _ENVELOPE}
    return {
        "id": event_id(e.originator_id, e.originator_version),
        "object": "event",
        "connection_id": str(e.originator_id),
        "version": e.originator_version,
        "type": f"connection.{event_type(e)}",
        "occurred_at": rfc3339(e.timestamp),
        "actor": meta.get("actor"),
        "request_id": meta.get("request_id"),
        "correlation_id": meta.get("correlation_id"),
        "data": _jsonable(data),
    }

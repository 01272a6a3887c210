"""Webhook endpoints as a tenant manages them through the API: create (the secret shown
once), read, update, delete, rotate the secret, deliveries and their attempts, redeliver,
replay a time range."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from adapters.tables.instants import iso
from adapters.tables.webhook_deliveries import AttemptRow, DeliveryRow
from adapters.tables.webhook_endpoints import EndpointRow
from adapters.tables.webhooks import WebhookTables
from adapters.webhook_sender import UnsafeUrl, WebhookSender, new_secret
from domain.connection import EVENT_TYPES
from domain.exceptions import NotFound, ValidationFailed
from service.webhooks.ids import new_id
from service.webhooks.policy import subscribed

WEBHOOK_EVENT_TYPES = frozenset({f"connection.{t}" for t in EVENT_TYPES.values()} | {"*"})
ROTATION_OVERLAP = timedelta(hours=24)  # the old secret keeps signing this long
REPLAY_LIMIT = 10_000


class WebhookEndpoints:
    """What a tenant manages through the API."""

    def __init__(
        self,
        tables: WebhookTables,
        sender: WebhookSender,
        box: Any,
        clock: Any,
        on_queued: Callable[[], None] = lambda: None,
    ):
        self.tables = tables
        self.sender = sender
        self.box = box
        self.clock = clock
        self.on_queued = on_queued  # rings this process's worker (redelivery, replay)

    def create(
        self,
        tenant_id: str,
        *,
        url: str,
        event_types: Sequence[str],
        description: str | None = None,
        enabled: bool = True,
    ) -> tuple[EndpointRow, str]:
        """The new endpoint and its signing secret, which is shown this once."""
        self._check_url(url)
        secret = new_secret()
        now = iso(self.clock.now()) or ""
        row = EndpointRow(
            id=new_id("we"),
            tenant_id=tenant_id,
            url=url,
            description=description,
            event_types=_event_types(event_types),
            enabled=enabled,
            disabled_reason=None if enabled else "manual",
            secret_encrypted=self.box.encrypt(secret),
            previous_secret_encrypted=None,
            previous_secret_expires_at=None,
            failing_since=None,
            created_at=now,
            updated_at=now,
        )
        self.tables.insert_endpoint(row)
        return row, secret

    def get(self, tenant_id: str, endpoint_id: str) -> EndpointRow:
        row = self.tables.endpoint(tenant_id, endpoint_id)
        if row is None:
            raise NotFound(f"No webhook endpoint {endpoint_id!r}.")
        return row

    def list(self, tenant_id: str, limit: int, starting_after: str | None) -> list[EndpointRow]:
        cursor = None
        if starting_after is not None:
            cursor = self.tables.endpoint(tenant_id, starting_after)
            if cursor is None:
                raise ValidationFailed(f"starting_after names no endpoint {starting_after!r}.")
        return self.tables.endpoints(tenant_id, limit, cursor)

    def update(
        self,
        tenant_id: str,
        endpoint_id: str,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> EndpointRow:
        row = self.get(tenant_id, endpoint_id)
        changes: dict[str, Any] = {"updated_at": iso(self.clock.now())}
        if url is not None:
            self._check_url(url)
            changes["url"] = url
        if event_types is not None:
            changes["event_types"] = _event_types(event_types)
        if description is not None:
            changes["description"] = description
        if enabled is not None and enabled != row.enabled:
            # Re-enabling starts a fresh failure streak; a person disabling says so.
            changes.update(
                enabled=enabled, failing_since=None, disabled_reason=None if enabled else "manual"
            )
        row = replace(row, **changes)
        self.tables.update_endpoint(row)
        return row

    def delete(self, tenant_id: str, endpoint_id: str) -> None:
        if not self.tables.delete_endpoint(tenant_id, endpoint_id):
            raise NotFound(f"No webhook endpoint {endpoint_id!r}.")

    def rotate_secret(self, tenant_id: str, endpoint_id: str) -> tuple[EndpointRow, str]:
        """A new secret, shown this once; the old one also signs for ROTATION_OVERLAP, so
        receivers can switch without dropping deliveries (Standard Webhooks allows several
        signatures in one header)."""
        row = self.get(tenant_id, endpoint_id)
        secret = new_secret()
        now = self.clock.now()
        row = replace(
            row,
            secret_encrypted=self.box.encrypt(secret),
            previous_secret_encrypted=row.secret_encrypted,
            previous_secret_expires_at=iso(now + ROTATION_OVERLAP),
            updated_at=iso(now),
        )
        self.tables.update_endpoint(row)
        return row, secret

    def deliveries(
        self,
        tenant_id: str,
        endpoint_id: str,
        limit: int,
        starting_after: str | None = None,
        status: str | None = None,
    ) -> list[tuple[DeliveryRow, list[AttemptRow]]]:
        self.get(tenant_id, endpoint_id)
        cursor = None
        if starting_after is not None:
            cursor = self.tables.delivery(tenant_id, starting_after)
            if cursor is None:
                raise ValidationFailed(f"starting_after names no delivery {starting_after!r}.")
        rows = self.tables.deliveries(endpoint_id, limit, cursor, status)
        return self._with_attempts(rows)

    def delivery(self, tenant_id: str, delivery_id: str) -> tuple[DeliveryRow, list[AttemptRow]]:
        row = self.tables.delivery(tenant_id, delivery_id)
        if row is None:
            raise NotFound(f"No webhook delivery {delivery_id!r}.")
        return self._with_attempts([row])[0]

    def redeliver(self, tenant_id: str, delivery_id: str) -> tuple[DeliveryRow, list[AttemptRow]]:
        """A new delivery of the same event (same webhook-id and body), due now."""
        original, _ = self.delivery(tenant_id, delivery_id)
        [new] = self.tables.add_deliveries(
            tenant_id,
            original.endpoint_id,
            [original.event_id],
            "redelivery",
            iso(self.clock.now()) or "",
            lambda: new_id("wd"),
        )
        self.on_queued()
        return self.delivery(tenant_id, new)

    def replay(self, tenant_id: str, endpoint_id: str, start: datetime, end: datetime) -> int:
        """Queues the endpoint's subscribed events that occurred in [start, end) again."""
        endpoint = self.get(tenant_id, endpoint_id)
        if end <= start:
            raise ValidationFailed("to must be after from.")
        events = self.tables.events_between(
            tenant_id, iso(start) or "", iso(end) or "", REPLAY_LIMIT + 1
        )
        if len(events) > REPLAY_LIMIT:
            raise ValidationFailed(
                f"More than {REPLAY_LIMIT} events in that range; replay a shorter one."
            )
        ids = [event for event, kind in events if subscribed(endpoint, kind)]
        self.tables.add_deliveries(
            tenant_id,
            endpoint_id,
            ids,
            "replay",
            iso(self.clock.now()) or "",
            lambda: new_id("wd"),
        )
        self.on_queued()
        return len(ids)

    def _with_attempts(self, rows: list[DeliveryRow]) -> list[tuple[DeliveryRow, list[AttemptRow]]]:
        attempts = self.tables.attempts([r.id for r in rows])
        return [(r, [a for a in attempts if a.delivery_id == r.id]) for r in rows]

    def _check_url(self, url: str) -> None:
        try:
            self.sender.check(url)
        except UnsafeUrl as e:
            raise ValidationFailed(f"{e}.", field="url") from None


def _event_types(given: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(given) - WEBHOOK_EVENT_TYPES)
    if unknown:
        raise ValidationFailed(
            f"Unknown event types: {', '.join(unknown)}. Use '*' or any of "
            f"{', '.join(sorted(WEBHOOK_EVENT_TYPES - {'*'}))}.",
            field="event_types",
        )
    if not given:
        raise ValidationFailed(
            "event_types must name at least one type, or '*'.", field="event_types"
        )
    return tuple(dict.fromkeys(given))

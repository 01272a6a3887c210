"""Webhooks: endpoint management, the outbox that follows the event log, the dispatcher.

A request handler never sends a webhook. The outbox (`outbox.py`) turns each committed
event into one delivery per subscribed endpoint, in the same transaction that moves its
tracking position (so a crash between commit and send loses nothing, and no event is
fanned out twice). The dispatcher (`dispatcher.py`) leases due deliveries, sends them from
a thread pool, and records every attempt. `endpoints.py` is what tenants manage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.tables.instants import iso
from adapters.tables.webhooks import WebhookTables
from adapters.webhook_sender import WebhookSender
from service.webhooks.dispatcher import LEASE, RETRY_DELAYS, WebhookDispatcher
from service.webhooks.endpoints import WebhookEndpoints
from service.webhooks.outbox import WebhookOutbox

__all__ = ["LEASE", "RETRY_DELAYS", "Webhooks", "build_webhooks"]

PRUNE_EVERY = timedelta(minutes=1)  # how often the worker looks for expired rows
PRUNE_BATCH = 1_000


@dataclass
class Webhooks:
    endpoints: WebhookEndpoints
    outbox: WebhookOutbox
    dispatcher: WebhookDispatcher
    sender: WebhookSender
    tables: WebhookTables
    clock: Any
    retention: timedelta
    _pruned_at: datetime | None = None

    def run_once(self, *, wait: bool = True) -> int:
        """One worker pass: fan out new events, then send what is due."""
        self.outbox.catch_up()
        return self.dispatcher.run_once(wait=wait)

    def prune(self) -> int:
        """Drops what is older than the retention (finished deliveries with their
        attempts, then events left without deliveries), one batch at a time, at most
        once per PRUNE_EVERY unless a batch was full; returns the deliveries and events
        removed."""
        now = self.clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return 0
        removed = self.tables.prune(iso(now - self.retention) or "", PRUNE_BATCH)
        self._pruned_at = None if removed >= PRUNE_BATCH else now  # more left: go again
        return removed

    def close(self) -> None:
        self.dispatcher.close()
        self.sender.close()


def build_webhooks(services: Any) -> Webhooks:
    tables = WebhookTables(services.tables)
    sender = WebhookSender(allow_private=services.settings.webhook_allow_private)
    return Webhooks(
        endpoints=WebhookEndpoints(
            tables, sender, services.box, services.clock, on_queued=services.waker.wake
        ),
        outbox=WebhookOutbox(services.app, tables, services.faults, services.clock),
        dispatcher=WebhookDispatcher(
            tables, sender, services.box, services.clock, on_slot_free=services.waker.wake
        ),
        sender=sender,
        tables=tables,
        clock=services.clock,
        retention=services.settings.webhook_retention,
    )

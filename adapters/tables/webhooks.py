"""The webhook capability's one handle on its three table families: endpoints
(`webhook_endpoints`), the outbox of events (`webhook_outbox`), and deliveries with their
attempts (`webhook_deliveries`). Each family's SQL lives in its own module."""

from __future__ import annotations

from adapters.tables.webhook_deliveries import WebhookDeliveryTables
from adapters.tables.webhook_endpoints import WebhookEndpointTables
from adapters.tables.webhook_outbox import WebhookOutboxTables


class WebhookTables(WebhookEndpointTables, WebhookOutboxTables, WebhookDeliveryTables):
    pass

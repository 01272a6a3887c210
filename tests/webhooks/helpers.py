"""What the webhook tests share: the service's webhook parts, an endpoint made for a
receiver, and an endpoint's deliveries."""

from __future__ import annotations


def hooks(live):
    return live.services.webhooks


def endpoint(live, receiver, tenant="tenant_a", **fields):
    row, secret = hooks(live).endpoints.create(
        tenant,
        url=fields.pop("url", receiver.url),
        event_types=fields.pop("event_types", ["*"]),
        **fields,
    )
    return row, secret


def deliveries(live, endpoint_row):
    return hooks(live).endpoints.deliveries(endpoint_row.tenant_id, endpoint_row.id, 100)

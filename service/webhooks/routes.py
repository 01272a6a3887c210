"""Webhook endpoint routes: thin controllers over `services.webhooks.endpoints`.

Create and rotate_secret answer with the plaintext secret, so they do not go through the
Idempotency-Key store (which keeps response bodies in plain text).
"""

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.params import Parameter
from msgspec import Meta

from adapters.tables.webhook_deliveries import AttemptRow, DeliveryRow
from adapters.tables.webhook_endpoints import EndpointRow
from service.api.auth import caller_of, requires
from service.api.idempotency import respond
from service.api.instants import instant
from service.api.responses import (
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookEndpoint,
    WebhookEndpointDeleted,
    WebhookEndpointList,
    WebhookEndpointWithSecret,
    WebhookReplay,
    ok,
)
from service.api.schemas import ShortText, Url
from service.api.threads import blocking
from service.connections.presenters import rfc3339

MANAGE = requires("webhooks:manage")
TAGS = ["webhooks"]
EventTypes = Annotated[
    list[Annotated[str, Meta(max_length=100)]], Meta(min_length=1, max_length=50)
]


class CreateWebhookEndpoint(msgspec.Struct, forbid_unknown_fields=True):
    url: Url
    event_types: EventTypes = msgspec.field(default_factory=lambda: ["*"])
    description: ShortText | None = None
    enabled: bool = True


class UpdateWebhookEndpoint(msgspec.Struct, forbid_unknown_fields=True):
    url: Url | None = None
    event_types: EventTypes | None = None
    description: ShortText | None = None
    enabled: bool | None = None


class ReplayWebhookEvents(msgspec.Struct, forbid_unknown_fields=True):
    from_: str = msgspec.field(name="from")
    to: str


def _endpoints(request: Request) -> Any:
    return request.app.state.services.webhooks.endpoints


def _tenant(request: Request) -> str:
    return caller_of(request).tenant_id


def _time(text: str | None) -> str | None:
    return None if text is None else rfc3339(datetime.fromisoformat(text))


def endpoint_json(e: EndpointRow, secret: str | None = None) -> dict[str, Any]:
    body = {
        "id": e.id,
        "object": "webhook_endpoint",
        "url": e.url,
        "description": e.description,
        "event_types": list(e.event_types),
        "enabled": e.enabled,
        "status": "enabled" if e.enabled else "disabled",
        "disabled_reason": e.disabled_reason,
        "previous_secret_expires_at": _time(e.previous_secret_expires_at),
        "created_at": _time(e.created_at),
        "updated_at": _time(e.updated_at),
    }
    return body if secret is None else {**body, "secret": secret}


def delivery_json(d: DeliveryRow, attempts: list[AttemptRow]) -> dict[str, Any]:
    return {
        "id": d.id,
        "object": "webhook_delivery",
        "endpoint_id": d.endpoint_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "origin": d.origin,
        "status": d.status,
        "attempt_count": d.attempt_count,
        "next_attempt_at": _time(d.next_attempt_at),
        "last_status_code": d.last_status_code,
        "created_at": _time(d.created_at),
        "updated_at": _time(d.updated_at),
        "attempts": [
            {
                "id": a.id,
                "attempted_at": _time(a.attempted_at),
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "response_body": a.response_body,
                "error": a.error,
            }
            for a in attempts
        ],
    }


def _page(items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    more = len(items) > limit
    data = items[:limit]
    return {
        "object": "list",
        "data": data,
        "has_more": more,
        "next_cursor": data[-1]["id"] if more else None,
    }


@post(
    "/v1/webhook_endpoints",
    guards=[MANAGE],
    operation_id="createWebhookEndpoint",
    responses=ok(
        WebhookEndpointWithSecret, "The endpoint with its signing secret, shown this once", 201
    ),
    tags=TAGS,
    status_code=201,
    summary="Add a webhook endpoint (its secret is shown once)",
)
@blocking
def create_endpoint(request: Request, data: CreateWebhookEndpoint) -> Response:
    row, secret = _endpoints(request).create(
        _tenant(request),
        url=data.url,
        event_types=data.event_types,
        description=data.description,
        enabled=data.enabled,
    )
    return respond(201, endpoint_json(row, secret), {"Location": f"/v1/webhook_endpoints/{row.id}"})


@get(
    "/v1/webhook_endpoints",
    guards=[MANAGE],
    operation_id="listWebhookEndpoints",
    responses=ok(WebhookEndpointList, "A page of webhook endpoints, newest first"),
    tags=TAGS,
    summary="List webhook endpoints, newest first",
)
@blocking
def list_endpoints(
    request: Request,
    limit: int = Parameter(default=20, ge=1, le=100),
    starting_after: str | None = None,
) -> dict[str, Any]:
    rows = _endpoints(request).list(_tenant(request), limit + 1, starting_after)
    return _page([endpoint_json(r) for r in rows], limit)


@get(
    "/v1/webhook_endpoints/{endpoint_id:str}",
    guards=[MANAGE],
    operation_id="getWebhookEndpoint",
    responses=ok(WebhookEndpoint, "The webhook endpoint"),
    tags=TAGS,
    summary="Read a webhook endpoint",
)
@blocking
def get_endpoint(request: Request, endpoint_id: str) -> dict[str, Any]:
    return endpoint_json(_endpoints(request).get(_tenant(request), endpoint_id))


@patch(
    "/v1/webhook_endpoints/{endpoint_id:str}",
    guards=[MANAGE],
    operation_id="updateWebhookEndpoint",
    responses=ok(WebhookEndpoint, "The webhook endpoint as changed"),
    tags=TAGS,
    summary="Change a webhook endpoint's URL, event types or enabled flag",
)
@blocking
def update_endpoint(
    request: Request, endpoint_id: str, data: UpdateWebhookEndpoint
) -> dict[str, Any]:
    return endpoint_json(
        _endpoints(request).update(
            _tenant(request),
            endpoint_id,
            url=data.url,
            event_types=data.event_types,
            description=data.description,
            enabled=data.enabled,
        )
    )


@delete(
    "/v1/webhook_endpoints/{endpoint_id:str}",
    guards=[MANAGE],
    operation_id="deleteWebhookEndpoint",
    responses=ok(WebhookEndpointDeleted, "The endpoint is gone"),
    tags=TAGS,
    status_code=200,
    summary="Delete a webhook endpoint with its delivery log",
)
@blocking
def delete_endpoint(request: Request, endpoint_id: str) -> dict[str, Any]:
    _endpoints(request).delete(_tenant(request), endpoint_id)
    return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}


@post(
    "/v1/webhook_endpoints/{endpoint_id:str}/rotate_secret",
    guards=[MANAGE],
    operation_id="rotateWebhookSecret",
    responses=ok(
        WebhookEndpointWithSecret, "The endpoint with its new signing secret, shown this once"
    ),
    tags=TAGS,
    status_code=200,
    summary="New signing secret (shown once); the old one signs for 24 more hours",
)
@blocking
def rotate_secret(request: Request, endpoint_id: str) -> dict[str, Any]:
    row, secret = _endpoints(request).rotate_secret(_tenant(request), endpoint_id)
    return endpoint_json(row, secret)


@get(
    "/v1/webhook_endpoints/{endpoint_id:str}/deliveries",
    guards=[MANAGE],
    operation_id="listWebhookDeliveries",
    responses=ok(WebhookDeliveryList, "A page of deliveries, newest first"),
    tags=TAGS,
    summary="The endpoint's deliveries with their attempts, newest first",
)
@blocking
def list_deliveries(
    request: Request,
    endpoint_id: str,
    limit: int = Parameter(default=20, ge=1, le=100),
    starting_after: str | None = None,
    status: Literal["pending", "succeeded", "failed"] | None = None,
) -> dict[str, Any]:
    rows = _endpoints(request).deliveries(
        _tenant(request), endpoint_id, limit + 1, starting_after, status
    )
    return _page([delivery_json(d, a) for d, a in rows], limit)


@get(
    "/v1/webhook_deliveries/{delivery_id:str}",
    guards=[MANAGE],
    operation_id="getWebhookDelivery",
    responses=ok(WebhookDelivery, "The delivery with its attempts"),
    tags=TAGS,
    summary="A delivery with its attempts",
)
@blocking
def get_delivery(request: Request, delivery_id: str) -> dict[str, Any]:
    return delivery_json(*_endpoints(request).delivery(_tenant(request), delivery_id))


@post(
    "/v1/webhook_deliveries/{delivery_id:str}/redeliver",
    guards=[MANAGE],
    operation_id="redeliverWebhook",
    responses=ok(WebhookDelivery, "The new delivery, queued", 202),
    tags=TAGS,
    status_code=202,
    summary="Send a delivery's event again (same webhook-id), as a new delivery",
)
@blocking
def redeliver(request: Request, delivery_id: str) -> dict[str, Any]:
    return delivery_json(*_endpoints(request).redeliver(_tenant(request), delivery_id))


@post(
    "/v1/webhook_endpoints/{endpoint_id:str}/replay",
    guards=[MANAGE],
    operation_id="replayWebhookEvents",
    responses=ok(WebhookReplay, "How many deliveries were queued", 202),
    tags=TAGS,
    status_code=202,
    summary="Send the endpoint's events from a time range again",
)
@blocking
def replay(request: Request, endpoint_id: str, data: ReplayWebhookEvents) -> dict[str, Any]:
    start, end = instant("from", data.from_), instant("to", data.to)
    queued = _endpoints(request).replay(_tenant(request), endpoint_id, start, end)
    return {
        "object": "webhook_replay",
        "endpoint_id": endpoint_id,
        "from": rfc3339(start),
        "to": rfc3339(end),
        "deliveries_created": queued,
    }


ROUTES = [
    create_endpoint,
    list_endpoints,
    get_endpoint,
    update_endpoint,
    delete_endpoint,
    rotate_secret,
    list_deliveries,
    get_delivery,
    redeliver,
    replay,
]

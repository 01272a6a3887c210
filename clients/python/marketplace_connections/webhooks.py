"""Standard Webhooks verification (the `standardwebhooks` package): the signature over
`{webhook-id}.{webhook-timestamp}.{body}` and a timestamp within five minutes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import standardwebhooks

from .generated.models import Connection


class WebhookVerificationError(ValueError):
    """The body was not signed with this secret, or its timestamp is too old or too new."""


@dataclass(frozen=True)
class WebhookEvent:
    """A delivered event: `type` is `connection.<event>`; `connection` is the connection as
    of that event (the generated `Connection` model, with `version`), `event` the event
    itself (`id`, `type`, `occurred_at`, `actor`)."""

    id: str
    type: str
    timestamp: datetime
    connection: Connection
    event: dict[str, Any]
    data: dict[str, Any]


def verify_webhook(body: bytes | str, headers: Mapping[str, str], secret: str) -> WebhookEvent:
    """The verified event, or WebhookVerificationError. `body` must be the bytes as
    received (before any JSON parsing); `secret` is the endpoint's `whsec_…`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        payload = standardwebhooks.Webhook(secret).verify(body, lowered)
    except (standardwebhooks.WebhookVerificationError, ValueError) as refused:
        raise WebhookVerificationError(str(refused)) from None
    data = payload.get("data") or {}
    return WebhookEvent(
        id=lowered["webhook-id"],
        type=payload["type"],
        timestamp=datetime.fromisoformat(payload["timestamp"]),
        connection=Connection.from_dict(data["connection"]),
        event=data.get("event") or {},
        data=data,
    )

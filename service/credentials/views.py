"""JSON shapes of the credentials capability."""

from __future__ import annotations

from typing import Any

from adapters.amazon.settings import AmazonSettings
from domain.access import ADS
from domain.connection import Connection
from service.connections.presenters import rfc3339
from service.credentials.tokens import Issued


def endpoint_of(settings: AmazonSettings, api: str, region: str) -> str:
    urls = settings.ads_api_urls if api == ADS else settings.sp_api_urls
    return urls[region].rstrip("/")


def access_token_json(
    c: Connection,
    api: str,
    issued: Issued,
    settings: AmazonSettings,
    profiles: list[dict[str, Any]],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "object": "access_token",
        "api": api,
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_at": rfc3339(issued.expires_at),
        "selling_partner_id": c.selling_partner_id,
        "region": c.region,
        "endpoint": endpoint_of(settings, api, c.region),
        "marketplace_ids": list(c.marketplace_ids),
    }
    if api == ADS:
        body["client_id"] = settings.ads_credentials[0]
        body["profiles"] = profiles
    return body

"""Request bodies of the credentials routes (strict msgspec structs)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.api.edge.text import SELLING_PARTNER_ID_PATTERN
from service.api.schemas import CreateConnection

ProfileId = Annotated[str, Meta(pattern=r"^[0-9]{1,20}$")]


class AccessTokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    api: Literal["sp-api", "ads"]
    profile_id: ProfileId | None = None


class ImportConnection(CreateConnection, forbid_unknown_fields=True, kw_only=True):
    """A create body plus the authorization made elsewhere."""

    selling_partner_id: Annotated[str, Meta(pattern=SELLING_PARTNER_ID_PATTERN)]
    refresh_token: Annotated[str, Meta(min_length=1, max_length=2048)]
    authorized_at: str | None = None  # RFC 3339; default: now

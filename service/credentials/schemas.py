"""Request bodies of the credentials routes (strict msgspec structs)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

ProfileId = Annotated[str, Meta(pattern=r"^[0-9]{1,20}$")]


class AccessTokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    api: Literal["sp-api", "ads"]
    profile_id: ProfileId | None = None

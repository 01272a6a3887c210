"""Request bodies: strict msgspec structs (unknown fields and wrong types are refused)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.api.edge.text import ADDRESS_PATTERN, LINE_PATTERN

Email = Annotated[str, Meta(pattern=ADDRESS_PATTERN, max_length=254)]
# A name that reaches a mail's headers: one line, and no `=?` (an RFC 2047 encoded-word
# would decode to a line break on Python releases with CVE-2024-6923).
HeaderLine = Annotated[str, Meta(pattern=r"^(?![\s\S]*=\?)" + LINE_PATTERN.removeprefix("^"))]
MarketplaceId = Annotated[str, Meta(pattern=r"^[A-Z0-9]{8,20}$")]
Url = Annotated[str, Meta(pattern=r"^https?://[^\s/]+[^\s]*$", max_length=2048)]
ShortText = Annotated[str, Meta(max_length=500)]
Level = Literal["none", "view", "view_and_edit", "admin"]


class InvitedBy(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[HeaderLine, Meta(min_length=1, max_length=200)]
    email: Email
    role: Literal["owner", "agency", "accountant", "staff"]


class CreateConnection(msgspec.Struct, forbid_unknown_fields=True):
    owner_email: Email
    region: Literal["na", "eu", "fe"]
    marketplace_ids: Annotated[list[MarketplaceId], Meta(min_length=1, max_length=20)]
    account_type: Literal["seller", "vendor"] = "seller"
    requires_seller_central_user: bool | None = None
    requires_advertising: bool = False
    invited_by: InvitedBy | None = None
    return_url: Url | None = None
    metadata: Annotated[
        dict[Annotated[str, Meta(min_length=1, max_length=40)], ShortText], Meta(max_length=50)
    ] = msgspec.field(default_factory=dict)


class EmptyBody(msgspec.Struct, forbid_unknown_fields=True):
    pass


class ConfirmSellerCentralUser(msgspec.Struct, forbid_unknown_fields=True):
    permissions: Annotated[dict[Annotated[str, Meta(max_length=64)], Level], Meta(max_length=64)]


class FailSellerCentralAuthorization(msgspec.Struct, forbid_unknown_fields=True):
    detail: ShortText | None = None


class Disconnect(msgspec.Struct, forbid_unknown_fields=True):
    reason: ShortText | None = None


ACTION_BODIES: dict[str, type[msgspec.Struct]] = {
    "resend_invitation": EmptyBody,
    "start_authorization": EmptyBody,
    "invite_seller_central_user": EmptyBody,
    "confirm_seller_central_user": ConfirmSellerCentralUser,
    "fail_seller_central_authorization": FailSellerCentralAuthorization,
    "start_advertising_authorization": EmptyBody,
    "activate": EmptyBody,
    "start_reauthorization": EmptyBody,
    "disconnect": Disconnect,
}

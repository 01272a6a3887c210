"""The Tokens API: Restricted Data Tokens for operations that return buyers' PII.

Shapes from amzn/selling-partner-api-models, models/tokens-api-model/tokens_2021-03-01.json:
`POST /tokens/2021-03-01/restrictedDataToken` with `restrictedResources` (method, path,
optional dataElements) answers `{"restrictedDataToken", "expiresIn"}`.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from service.sandbox.grants import Levers
from service.sandbox.issued import Grant, read
from service.sandbox.sellers import sp_answer, sp_grant
from service.sandbox.threads import off_the_shared_pool

RDT_PREFIX = "Atz.sprdt|"


def read_rdt(token: str | None) -> Grant | None:
    """The grant behind a sandbox RDT: `Atz.sprdt|sbx.<outcome>.<partner>.<random>`."""
    if not token or not token.startswith(RDT_PREFIX):
        return None
    return read("Atza|" + token[len(RDT_PREFIX) :], "Atza|")


def tokens_routes(levers: Levers) -> list[HTTPRouteHandler]:
    @post("/{region:str}/tokens/2021-03-01/restrictedDataToken")
    @off_the_shared_pool  # the levers are in the store
    def restricted_data_token(
        request: Request, region: FromPath[str], data: dict[str, Any]
    ) -> Response[Any]:
        grant = sp_grant(region, request.headers.get("x-amz-access-token"), levers)
        if isinstance(grant, Response):
            return grant
        resources = data.get("restrictedResources") if isinstance(data, dict) else None
        if (
            not isinstance(resources, list)
            or not resources
            or not all(isinstance(r, dict) and r.get("method") and r.get("path") for r in resources)
        ):
            error = {"code": "InvalidInput", "message": "restrictedResources is required."}
            return sp_answer(400, {"errors": [error]})
        token = (
            f"{RDT_PREFIX}sbx.{grant.outcome}.{grant.selling_partner_id}."
            f"{secrets.token_urlsafe(24)}"
        )
        return sp_answer(200, {"restrictedDataToken": token, "expiresIn": 3600})

    return [restricted_data_token]

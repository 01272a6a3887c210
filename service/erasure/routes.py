"""`POST /v1/connections/{id}/erase` (scope `admin`): SPEC §14."""

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post

from service.api.auth import caller_of, requires, services_of
from service.api.responses import Connection, ok
from service.api.threads import blocking

ADMIN = requires("admin")


class Erase(msgspec.Struct, forbid_unknown_fields=True):
    # Why, for the record (`connection.erased`): a ticket, a request's reference. It is
    # kept after erasure, so it should name nobody.
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


@post(
    "/v1/connections/{connection_id:str}/erase",
    guards=[ADMIN],
    operation_id="eraseConnection",
    tags=["connections"],
    status_code=200,
    opt={"problems": {409}},  # INVALID_TRANSITION (not disconnected), VERSION_CONFLICT
    responses=ok(Connection, "The connection, its personal values `[erased]`"),
    summary="Erase a disconnected connection's personal values (its history still verifies)",
    description=(
        "Only a `disconnected` connection (else 409 `INVALID_TRANSITION` with "
        "`allowed_actions`). Records `connection.erased` (actor, reason, time), destroys the "
        "connection's data key and scrubs every copy the service keeps; answers the "
        "connection, its personal values shown as `[erased]`. Asking again answers the same."
    ),
)
@blocking
def erase_connection(request: Request, connection_id: str, data: Erase) -> Response:
    caller = caller_of(request)
    services = services_of(request)
    connection = services.erasure.erase(
        connection_id,
        data.reason,
        caller.actor,
        tenant_id=caller.tenant_id,
        request_id=caller.request_id,
    )
    body: dict[str, Any] = services.connections.json(connection)
    return Response(body, status_code=200, headers={"ETag": f'"{connection.version}"'})


ROUTES = [erase_connection]

"""What the generated OpenAPI document cannot know by itself: which problems each operation
answers with, which routes are public, and the headers read from the request directly.

Litestar documents a handler's signature. The rest of the contract comes from the route
table: a route's guard says whether it needs an API key; a path parameter means 404; a
parameter or a body means 422 `VALIDATION_ERROR`; lifecycle actions take `If-Match` and
answer 409 and 412; POSTs that honour `Idempotency-Key` say so. Every problem is an RFC
9457 `application/problem+json` body with a stable `code` (GET /v1/errors lists them).
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
)
from litestar.routes import HTTPRoute

from domain.lifecycle import PUBLIC_ACTIONS
from service.api.auth import scope_of
from service.api.problems import PROBLEM_JSON

_STRING = Schema(type=OpenAPIType.STRING)
PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    description="An RFC 9457 problem; `code` is stable, `detail` is for people.",
    required=["type", "title", "status", "code", "detail"],
    properties={
        "type": _STRING,
        "title": _STRING,
        "status": Schema(type=OpenAPIType.INTEGER),
        "code": _STRING,
        "detail": _STRING,
        "instance": _STRING,
        "request_id": Schema(one_of=[_STRING, Schema(type=OpenAPIType.NULL)]),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            description="VALIDATION_ERROR: one entry per invalid field.",
            items=Schema(type=OpenAPIType.OBJECT),
        ),
    },
)
# status -> (its name under components/responses, the codes it carries, Retry-After?)
_PROBLEMS: dict[int, tuple[str, str, bool]] = {
    401: ("Unauthenticated", "UNAUTHENTICATED: no API key, or an unknown or revoked one", False),
    403: ("Forbidden", "FORBIDDEN: the API key lacks the operation's scope", False),
    404: ("NotFound", "NOT_FOUND: nothing with that id for this tenant", False),
    409: (
        "Conflict",
        "INVALID_TRANSITION: not allowed in the connection's state; VERSION_CONFLICT: "
        "changed by another request at the same time; IDEMPOTENCY_KEY_REUSED: a request "
        "with this Idempotency-Key is still in progress, or died without a response "
        '(`outcome: "unknown"`); API_AUTHORIZATION_REQUIRED, ACCESS_REVOKED, '
        "REAUTHORIZATION_REQUIRED: the connection's Amazon access may not be used now",
        False,
    ),
    412: (
        "PreconditionFailed",
        "VERSION_CONFLICT: If-Match names another version than the current one",
        False,
    ),
    408: (
        "RequestTimeout",
        "REQUEST_TIMEOUT: the request's head or body did not arrive in time "
        "(HTTP_HEAD_TIMEOUT, HTTP_BODY_TIMEOUT); the connection closes",
        False,
    ),
    413: ("PayloadTooLarge", "PAYLOAD_TOO_LARGE: the body exceeds MAX_BODY_BYTES", False),
    431: (
        "HeadersTooLarge",
        "HEADERS_TOO_LARGE: the request line and headers exceed MAX_HEADER_BYTES or "
        "MAX_HEADERS; the connection closes",
        False,
    ),
    422: (
        "ValidationError",
        "VALIDATION_ERROR: a parameter or the body is invalid (see `errors`); "
        "IDEMPOTENCY_KEY_REUSED: the key was used with a different request",
        False,
    ),
    429: ("RateLimited", "RATE_LIMITED: this API key is over its rate", True),
    503: (
        "ServiceUnavailable",
        "SERVICE_UNAVAILABLE: the database cannot be reached; AMAZON_UNAVAILABLE, "
        "APP_CREDENTIALS_INVALID: Amazon did not issue an access token",
        True,
    ),
}
_IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in="header",
    required=False,
    description="A retry with the same key and body gets the first response again.",
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=255),
)
_IF_MATCH = Parameter(
    name="If-Match",
    param_in="header",
    required=False,
    description='The ETag of the version this change was decided on, e.g. "3"; '
    "412 when the connection has moved on.",
    schema=_STRING,
)
_TYPED = re.compile(r"{(\w+):\w+}")
# Public routes answered from memory: the database being down does not affect them.
_STATIC = frozenset({"/healthz", "/v1/errors", "/v1/state-machine"})


def document_problems(app: Litestar) -> None:
    """Completes `app.openapi_schema` in place, so /openapi.json, /docs and
    `connections openapi` all show it."""
    schema = app.openapi_schema
    components = schema.components
    components.schemas = {**(components.schemas or {}), "Problem": PROBLEM}
    components.responses = {
        **(components.responses or {}),
        **{name: _problem_response(status) for status, (name, _, _) in _PROBLEMS.items()},
    }
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path_item = (schema.paths or {}).get(_TYPED.sub(r"{\1}", route.path))
        if path_item is None:
            continue  # not in the schema (metrics, sandbox Amazon)
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = getattr(path_item, method.lower(), None)
                if operation is not None:
                    _complete(operation, route.path, method, scope_of(handler) is not None)
                    # A handler may name further problems it answers: opt={"problems": {409}}.
                    for status in sorted(handler.opt.get("problems", ())):
                        operation.responses[str(status)] = Reference(
                            ref=f"#/components/responses/{_PROBLEMS[status][0]}"
                        )


def _complete(operation: Operation, path: str, method: str, guarded: bool) -> None:
    action = method == "POST" and path.rsplit("/", 1)[-1] in PUBLIC_ACTIONS
    idempotent = action or (method == "POST" and path == "/v1/connections")
    # The connection layer (service.api.edge.http) may answer any request with 408 or 431.
    statuses = {408, 431} if path in _STATIC else {408, 431, 503}
    if guarded:
        statuses |= {401, 403, 429}
    else:
        operation.security = []  # public: no API key
    if "{" in path:
        statuses.add(404)
    if operation.parameters or operation.request_body or idempotent:
        statuses.add(422)
    if operation.request_body:
        statuses.add(413)
    parameters = list(operation.parameters or [])
    if idempotent:
        parameters.append(_IDEMPOTENCY_KEY)
        statuses.add(409)
    if action:
        parameters.append(_IF_MATCH)
        statuses.add(412)
    operation.parameters = parameters or None
    responses: dict[str, Any] = {
        code: response
        for code, response in (operation.responses or {}).items()
        if code != "400"  # litestar's default; this service answers 422 VALIDATION_ERROR
    }
    for status in sorted(statuses):
        responses[str(status)] = Reference(ref=f"#/components/responses/{_PROBLEMS[status][0]}")
    operation.responses = responses


def _problem_response(status: int) -> OpenAPIResponse:
    _, codes, retry_after = _PROBLEMS[status]
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if retry_after:
        headers = {
            "Retry-After": OpenAPIHeader(
                description="Seconds to wait before retrying.",
                schema=Schema(type=OpenAPIType.STRING),
            )
        }
    return OpenAPIResponse(
        description=codes,
        content={
            PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
        },
        headers=headers,
    )

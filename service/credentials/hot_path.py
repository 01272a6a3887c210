"""A cached access token answered before routing: the request integrators send most.

`POST /v1/connections/{id}/access_tokens` comes before every call a tool makes to Amazon,
and nearly always this process already holds the token (service.credentials.memory). The
answer is then a dictionary lookup, while litestar's work around it (routing, a Request
per layer, the guard with a copy of the handler, the signature model, a Response) cost
twice the rest of the request: the route ran at 0.35x of `/healthz` (bench.credentials).

This layer, inside the request-id middleware (so the request still gets its id, access
line and metrics), answers exactly that case: a POST with no query string and none of
the headers the edge guard checks (`Idempotency-Key`, `If-Match`), a JSON body of at
most `MAX_BODY` bytes that the route's struct takes, without `profile_id`; an API key
this process holds whose last use needs no write, with the `credentials:read` scope and
rate to spare; a fresh token recalled for the caller's own connection, which may use it
(both judged a second ahead). Then it calls the route's own `access_token` and writes
the route's answer (201, `Cache-Control: no-store`, the same JSON), and the use is in
the access log as ever.

Anything else, and any doubt, goes on to the route with the body replayed, untouched,
before anything is spent or logged: the route answers it as it always has (errors as
problems included). tests/credentials/test_hot_path.py holds the two to the same answer.
"""

from __future__ import annotations

import re
from datetime import timedelta

import msgspec
from litestar import Litestar
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from domain.access import refusal
from service.api.auth import bearer_secret, caller_with_key, rate_limiter
from service.api.edge.guard import KEPT_HEADERS
from service.credentials.metrics import HOT_PATH_ANSWERS
from service.credentials.routes import ACCESS_TOKENS, CREDENTIALS, NO_STORE, access_token
from service.credentials.schemas import AccessTokenRequest

AHEAD = timedelta(seconds=1)
MAX_BODY = 1024  # {"api": "sp-api"} is 17 bytes; a longer body goes to the route
# The route's own path: the template litestar's router would set, and the same path with
# an id in it (an id the token memory holds is a connection's, so nothing wider is needed).
TEMPLATE = ACCESS_TOKENS.replace(":str}", "}")
_PATH = re.compile(re.escape(TEMPLATE).replace(r"\{connection_id\}", "([0-9A-Za-z_-]{1,64})"))
_EDGE_HEADERS = tuple(name.encode() for name in KEPT_HEADERS)  # the edge guard checks these
_HEADERS = [
    *((name.lower().encode(), value.encode()) for name, value in NO_STORE.items()),
    (b"content-type", b"application/json"),
]
_DECODER = msgspec.json.Decoder(AccessTokenRequest)


def cached_access_tokens(app: Litestar, inner: ASGIApp) -> ASGIApp:
    """`inner` (the app's ASGI handler) behind the layer that answers cached tokens."""
    services = app.state.services
    scope_needed = CREDENTIALS.scope  # type: ignore[attr-defined]
    limiter = rate_limiter(app.state)

    async def layer(scope: Scope, receive: Receive, send: Send) -> None:
        found = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and not scope.get("query_string")
            and _PATH.fullmatch(scope["path"])
        )
        if not found:
            await inner(scope, receive, send)
            return
        messages, body = await _read(receive)
        answer = None if body is None else _answer(scope, found.group(1), body)
        if answer is None:
            await inner(scope, _replaying(messages, receive), send)
            return
        headers = [*_HEADERS, (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    def _answer(scope: Scope, connection_id: str, body: bytes) -> bytes | None:
        """The 201's body, or None for the route to answer: nothing is spent or logged
        before every check has passed."""
        authorization = content_type = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value if authorization is None else authorization
            elif name == b"content-type":
                content_type = value
            elif name in _EDGE_HEADERS:
                return None
        if authorization is None or content_type is None:
            return None
        secret = bearer_secret(authorization.decode("latin-1"))
        if secret is None or content_type.partition(b";")[0].strip() != b"application/json":
            return None
        try:
            data = _DECODER.decode(body)
        except msgspec.DecodeError:  # not JSON, or not the struct: the route says why
            return None
        if data.profile_id is not None:
            return None
        keys = services.api_keys
        record = keys.cached(secret)
        if record is None or keys.touch_due(record) or scope_needed not in record.scopes:
            return None
        tokens = services.credentials.tokens
        state = scope["state"]
        caller = caller_with_key(record, state.get("request_id"))
        # Judged a second ahead, so that nothing judged here (the token's freshness, a
        # lapse at an instant) can turn before `access_token` asks again: it then cannot
        # refuse, nor reach for the store, on the event loop.
        known = tokens.recall(caller, connection_id, data.api, ahead=AHEAD)
        if known is None or refusal(known.connection, data.api, services.clock.now() + AHEAD):
            return None
        if limiter.wait(record.id):
            return None  # the route refuses it, with its Retry-After
        state["caller"] = caller
        scope["path_params"] = {"connection_id": connection_id}
        scope["path_template"] = TEMPLATE
        answer = access_token(services, caller, connection_id, data, known.connection, known)
        HOT_PATH_ANSWERS.inc()
        return msgspec.json.encode(answer)

    return layer


async def _read(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages received, and the body they make (None past MAX_BODY or on a
    disconnect: the route reads the rest)."""
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return messages, None
        if not message.get("more_body"):
            return messages, body


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay

"""Every request's strings checked once, before any handler (or store) sees them.

Installed around every route by `create_app`, so a new body, parameter or callback is
covered without doing anything: body fields (JSON and forms, keys and values, at any
depth), query and path parameters, and the headers the service keeps. A refusal is a
422 `VALIDATION_ERROR` naming the field; nothing is read further, so nothing is written.
JSON bodies are also refused past MAX_JSON_DEPTH levels of nesting (a deeper document
would exhaust the decoder's recursion), and their strings are NFC-normalised. A string
shaped like an RFC 3339 timestamp must name an instant inside the calendar
(`service.api.edge.instants`).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from domain.exceptions import ValidationFailed
from service.api.edge import instants
from service.api.edge.text import normalised, refusal

MAX_JSON_DEPTH = 32
KEPT_HEADERS = ("idempotency-key", "if-match")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# Brackets outside strings; a string (escapes included) is one token to skip.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def edge_guard(app: ASGIApp) -> ASGIApp:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _checked_without_request(scope):
            await check_request(Request(scope, receive))
        await app(scope, receive, send)

    return guarded


_KEPT = {name.encode(): name for name in KEPT_HEADERS}
_BODY_HEADERS = (b"content-length", b"transfer-encoding")


def _checked_without_request(scope: Scope) -> bool:
    """Checks a request with no query string and no body (most reads) straight from the
    ASGI scope, without building a litestar Request (half the guard's cost on a bare
    `/healthz`). False: it has either, and `check_request` must look."""
    if scope.get("query_string"):
        return False
    kept = []
    for name, value in scope["headers"]:
        if name in _BODY_HEADERS and value != b"0":
            return False
        if name in _KEPT:
            kept.append((_KEPT[name], value.decode("latin-1")))
    for name, value in (scope.get("path_params") or {}).items():
        if isinstance(value, str):
            _check(name, value, "path")
    for name, value in kept:
        _check(name, value, "header", max_chars=255)
    return True


async def check_request(request: Request) -> None:
    for name, value in request.query_params.multi_items():
        _check(f"query parameter {name!r}", name, "query")
        _check(name, value, "query")
    for name, value in (request.scope.get("path_params") or {}).items():
        if isinstance(value, str):
            _check(name, value, "path")
    for name in KEPT_HEADERS:
        if (value := request.headers.get(name)) is not None:
            _check(name, value, "header", max_chars=255)
    handler = request.scope.get("route_handler")
    if handler is not None and handler.opt.get("edge_body") is False:
        return  # bodies passed through to someone else, streamed (the proxy to Amazon)
    content_type, options = request.content_type
    if content_type.startswith(_FORMS):
        if content_type == _FORMS[1] and "boundary" not in options:
            return  # not a form anyone can read: the route's own decoding answers that
        for name, value in (await request.form()).multi_items():
            _check(name, name, "body")
            if isinstance(value, str):
                _check(name, value, "body", line=False)
        return
    body = await request.body()
    if body:
        _check_json(request, body)


def _check_json(request: Request, body: bytes) -> None:
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and json_depth(body) > MAX_JSON_DEPTH:
        raise ValidationFailed(
            f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.",
            errors=[{"field": None, "message": "nested too deeply", "source": "body"}],
        )
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return  # not JSON: the route's own decoding answers that
    clean = _walk(value, "")
    if clean != value:
        ScopeState.from_scope(request.scope).json = clean


def json_depth(body: bytes) -> int:
    depth = deepest = 0
    for token in _JSON_TOKENS.finditer(body):
        bracket = token.group()
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in (b"]", b"}"):
            depth -= 1
    return deepest


def _walk(value: Any, path: str) -> Any:
    if isinstance(value, str):
        _check(path or "body", value, "body", line=False)
        return normalised(value)
    if isinstance(value, dict):
        clean = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            _check(where, key, "body")
            clean[normalised(key)] = _walk(item, where)
        return clean
    if isinstance(value, list):
        return [_walk(item, f"{path}[{i}]") for i, item in enumerate(value)]
    return value


def _check(field: str, value: str, source: str, *, line: bool = True, **limits: Any) -> None:
    reason = refusal(value, line=line, **limits) or instants.refusal(value)
    if reason is not None:
        shown = field if refusal(field, max_chars=100) is None else ascii(field[:100])
        raise ValidationFailed(
            f"{shown}: {reason}.",
            errors=[{"field": shown, "message": reason, "source": source}],
        )

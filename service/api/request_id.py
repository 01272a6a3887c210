"""Every request gets an id (the caller's `X-Request-ID` if sane, else a new one; echoed),
a log context carried by each line it writes, one access log line and its metrics.

It wraps the whole application, not only the matched routes, so unknown paths and refused
methods are logged and counted too. One pure ASGI function, and lean (bench/edge.py
measures it against a bare litestar `/healthz`): the headers are scanned once for the
three it reads, a new id is 128 random bits from the process's generator (no system call),
the metrics' label children are looked up once per route and status, and the access line
skips the log record's processor chain (service.logs.access).
"""

from __future__ import annotations

import json
import logging
import re
from random import getrandbits
from time import perf_counter
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service import logs, metrics

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_CREATED = re.compile(r"^/v1/connections/([^/?]+)$")
_PROBLEM_BYTES = 64 * 1024


class _Seen:
    """What the response said, as far as logs and metrics care."""

    __slots__ = ("code", "created", "problem", "replayed", "status")

    def __init__(self) -> None:
        self.status = 500  # an exception escaped every handler
        self.code: str | None = None
        self.replayed = False
        self.created: str | None = None
        self.problem: bytes | None = None

    def start(self, headers: list[tuple[bytes, bytes]]) -> None:
        for name, value in headers:
            name = name.lower()
            if name == b"content-type":
                if value.startswith(b"application/problem+json"):
                    self.problem = b""
            elif name == b"location":
                created = _CREATED.match(value.decode("latin-1"))
                self.created = created.group(1) if created else None
            elif name == b"idempotent-replayed":
                self.replayed = value == b"true"

    def body(self, message: Message) -> None:
        self.problem = (self.problem + message.get("body", b""))[:_PROBLEM_BYTES]  # type: ignore[operator]
        if not message.get("more_body"):
            self.code = _problem_code(self.problem)


def _given_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"x-request-id":  # ASGI servers give header names in lower case
            given = value.decode("latin-1")
            return given if _SANE.match(given) else None
    return None


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = perf_counter()
        request_id = _given_id(scope["headers"]) or f"req_{getrandbits(128):032x}"
        scope.setdefault("state", {})["request_id"] = request_id
        seen = _Seen()
        token = logs.enter_request(lambda: _log_fields(scope, seen))
        echoed = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                seen.status = message["status"]
                headers = message.get("headers")
                headers = [] if headers is None else list(headers)
                seen.start(headers)
                headers.append(echoed)
                message["headers"] = headers
            elif kind == "http.response.body" and seen.problem is not None:
                seen.body(message)
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            elapsed = perf_counter() - started
            method, route = scope["method"], scope.get("path_template", "")
            metrics.observe_request(method, route, seen.status, elapsed, seen.code, seen.replayed)
            # The path only: query strings carry OAuth codes and signed states.
            fields = {
                "method": method,
                "path": scope["path"],
                "route": route or None,
                "status": seen.status,
                "duration_ms": round(elapsed * 1000, 1),
            }
            if seen.code:
                fields["code"] = seen.code
            logs.access(logging.ERROR if seen.status >= 500 else logging.INFO, fields)
            logs.leave_request(token)

    return middleware


def _log_fields(scope: Scope, seen: _Seen) -> dict[str, Any]:
    """Read at each log line: routing adds the path parameters, the auth guard the caller."""
    caller = scope["state"].get("caller")
    return {
        "request_id": scope["state"]["request_id"],
        "tenant": getattr(caller, "tenant_id", None),
        "connection_id": scope.get("path_params", {}).get("connection_id") or seen.created,
        "action": metrics.command_of(scope["method"], scope.get("path_template", "")),
    }


def _problem_code(body: bytes) -> str | None:
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None

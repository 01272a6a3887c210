"""Every request gets an id (the caller's `X-Request-ID` if sane, else a new one; echoed),
a log context carried by each line it writes, one access log line and its metrics.

It wraps the whole application, not only the matched routes, so unknown paths and refused
methods are logged and counted too.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any
from uuid import uuid4

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service import logs, metrics

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_CREATED = re.compile(r"^/v1/connections/([^/?]+)$")
_PROBLEM_BYTES = 64 * 1024


class _Seen:
    """What the response said, as far as logs and metrics care."""

    status = 500  # an exception escaped every handler
    code: str | None = None
    replayed = False
    created: str | None = None
    problem: bytes | None = None

    def read(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = {k.lower(): v for k, v in message.get("headers", [])}
            self.replayed = headers.get(b"idempotent-replayed") == b"true"
            if headers.get(b"content-type", b"").startswith(b"application/problem+json"):
                self.problem = b""
            created = _CREATED.match(headers.get(b"location", b"").decode("latin-1"))
            self.created = created.group(1) if created else None
        elif message["type"] == "http.response.body" and self.problem is not None:
            self.problem = (self.problem + message.get("body", b""))[:_PROBLEM_BYTES]
            if not message.get("more_body"):
                self.code = _problem_code(self.problem)


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE.match(given) else f"req_{uuid4().hex}"
        scope.setdefault("state", {})["request_id"] = request_id
        seen = _Seen()
        token = logs.enter_request(lambda: _log_fields(scope, seen))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            seen.read(message)
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
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

"""The HTTP connection's own limits, before a request reaches the application.

uvicorn's httptools protocol reads a request head of any size (a 64 MB header was read
and answered) and leaves a connection that never finishes its head, or trickles its body,
open for ever. `LimitedHttpToolsProtocol` adds, per connection:

- the request line and headers at most `max_header_bytes` (16 KiB) and `max_headers`
  (100) fields: beyond, `431 HEADERS_TOO_LARGE` and the connection closes;
- a request head complete within `head_timeout` (10 s) of the connection opening or of
  the previous response, and a body within `body_timeout` (30 s) of its head: otherwise
  `408 REQUEST_TIMEOUT` and the connection closes. An idle keep-alive connection closes
  after uvicorn's `timeout_keep_alive` (5 s).

`connections serve` uses it; `configure` sets the limits from the settings in each server
process (`service.asgi.create`).

One timer per connection, moved lazily: arming sets a deadline (a float), and the timer,
when it fires early, sleeps again until the deadline it finds. A keep-alive request thus
costs no timer of its own (it used to create and cancel two: 15 % of a bare `/healthz`).
"""

from __future__ import annotations

import json
from asyncio import TimerHandle
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from domain.errors import entry


@dataclass(frozen=True)
class HttpLimits:
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    head_timeout: float = 10.0
    body_timeout: float = 30.0


class _Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    limits: ClassVar[HttpLimits] = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._awaiting_head = True
        self._head_bytes = 0
        self._timer: TimerHandle | None = None
        self._deadline: float | None = None  # when the armed part must have arrived
        self._part = ""
        self._seconds = 0.0

    # -- the head
    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.head_timeout, "headers")

    def data_received(self, data: bytes) -> None:
        if self._awaiting_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header_bytes + len(data):
                # Already more than the limit before this chunk, and still no end of head.
                return self._refuse(self._too_large())
        try:
            super().data_received(data)
        except _Refused as refused:  # pragma: no cover - raised inside the parser below
            self._refuse(refused)

    def on_headers_complete(self) -> None:
        # Counted once the head is whole, not per header or URL fragment as the parser
        # reports them (a Python call each): data_received already stopped any head
        # longer than the limit by more than one read, so nothing unbounded was held.
        if len(self.headers) > self.limits.max_headers:
            self._pending = _Refused(
                "HEADERS_TOO_LARGE",
                f"A request may carry at most {self.limits.max_headers} headers.",
            )
            raise self._pending
        size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
        if size > self.limits.max_header_bytes:
            self._pending = self._too_large()
            raise self._pending
        self._awaiting_head = False
        self._head_bytes = 0
        self._arm(self.limits.body_timeout, "body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._awaiting_head = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._awaiting_head and not self.transport.is_closing():
            self._arm(self.limits.head_timeout, "headers")

    def send_400_response(self, msg: str) -> None:
        # The parser stops at our callbacks' exceptions and reports them as malformed.
        pending = getattr(self, "_pending", None)
        if pending is not None:
            return self._refuse(pending)
        super().send_400_response(msg)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    # -- helpers
    def _too_large(self) -> _Refused:
        return _Refused(
            "HEADERS_TOO_LARGE",
            f"The request line and headers may be at most {self.limits.max_header_bytes} bytes.",
        )

    def _arm(self, seconds: float, part: str) -> None:
        self._deadline = deadline = self.loop.time() + seconds
        self._part, self._seconds = part, seconds
        if self._timer is not None and self._timer.when() > deadline:
            self._timer.cancel()  # it would fire too late: a body's timer, now a head's
            self._timer = None
        if self._timer is None:
            self._timer = self.loop.call_at(deadline, self._due)

    def _disarm(self) -> None:
        self._deadline = None  # the timer, when it fires, finds nothing armed

    def _due(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return
        if self.loop.time() < deadline:  # re-armed since this timer was set
            self._timer = self.loop.call_at(deadline, self._due)
            return
        self._deadline = None
        self._timed_out(self._part, self._seconds)

    def _timed_out(self, part: str, seconds: float) -> None:
        if self.transport.is_closing():
            return
        if part == "headers" and not self._awaiting_head:
            return  # a pipelined request is being handled
        if part == "body" and self.cycle is not None and not self.cycle.more_body:
            return
        if part == "body" and self.cycle is not None:
            # The application is reading it: tell it the client is gone, then close.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self._refuse(
            _Refused(
                "REQUEST_TIMEOUT", f"The request's {part} did not arrive within {seconds:g} s."
            )
        )

    def _refuse(self, refused: _Refused) -> None:
        item = entry(refused.code)
        if self.cycle is not None and not self.cycle.response_complete and not self._awaiting_head:
            # A response may already be on its way: only close.
            self.transport.close()
            return
        body = json.dumps(
            {
                "type": f"/v1/errors#{refused.code}",
                "title": item.title,
                "status": item.http_status,
                "code": refused.code,
                "detail": refused.detail,
            }
        ).encode()
        head = (
            f"HTTP/1.1 {item.http_status} {item.title}\r\n"
            "content-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode()
        self.transport.write(head + body)
        self.transport.close()


def configure(limits: HttpLimits) -> None:
    LimitedHttpToolsProtocol.limits = limits


__all__ = ["HttpLimits", "LimitedHttpToolsProtocol", "configure", "httptools"]

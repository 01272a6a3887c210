"""A webhook receiver that can go down (its port closed) and come back on the same port,
or answer 503 with Retry-After as if in maintenance; it checks every signature."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass
class Delivery:
    webhook_id: str
    body: str
    status: int  # what the receiver answered
    signed: bool  # the signature verified with the endpoint's secret
    arrived: float  # monotonic seconds
    answered: float


@dataclass
class WebhookReceiver:
    port: int = 0
    secret: str = ""
    maintenance: bool = False  # answer 503 with Retry-After: 1
    delay: float = 0.0  # seconds before answering
    received: list[Delivery] = field(default_factory=list)
    in_progress: int = 0  # requests arrived and not yet answered
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                with receiver.lock:
                    receiver.in_progress += 1
                time.sleep(receiver.delay)
                status = 503 if receiver.maintenance else 200
                receiver.keep(dict(self.headers), body, status, arrived)
                self.send_response(status)
                if status == 503:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Down: the port is closed, connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def keep(self, headers: dict[str, str], body: str, status: int, arrived: float) -> None:
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            Webhook(self.secret).verify(body, headers)
            signed = True
        except Exception:
            signed = False
        with self.lock:
            self.received.append(
                Delivery(headers["webhook-id"], body, status, signed, arrived, time.monotonic())
            )
            self.in_progress -= 1

    def delivered(self) -> set[str]:
        """Webhook ids the receiver accepted (answered 2xx)."""
        with self.lock:
            return {d.webhook_id for d in self.received if d.status < 300}


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # the same port again after a restart
    daemon_threads = True
    request_queue_size = 128  # the dispatcher opens several connections at once

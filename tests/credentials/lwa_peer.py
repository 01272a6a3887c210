"""A counting LWA token endpoint on loopback, for the failure paths and the single-flight
proof: it forwards each form to an upstream LWA (the sandbox's) after an optional delay,
or answers a failure the test sets, and counts the refresh grants it saw (and on which
path: one peer can stand in for the Ads API's regional token hosts at `host_url(path)`)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import httpx


class LwaPeer:
    def __init__(self, upstream: str, delay: float = 0.0) -> None:
        self.upstream = upstream
        self.delay = delay
        self.failure: tuple[int, str] | None = None  # (status, LWA error) to answer instead
        self.refreshes = 0
        self.exchanges = 0
        self.refresh_paths: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return self.host_url("/auth/o2/token")

    def host_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def start(self) -> LwaPeer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str, body: bytes) -> tuple[int, bytes]:
        form = dict(parse_qsl(body.decode()))
        with self._lock:
            if form.get("grant_type") == "refresh_token":
                self.refreshes += 1
                self.refresh_paths.append(path)
            else:
                self.exchanges += 1
        time.sleep(self.delay)
        if self.failure is not None and form.get("grant_type") == "refresh_token":
            status, error = self.failure
            return status, json.dumps({"error": error, "error_description": "peer"}).encode()
        response = httpx.post(self.upstream, data=form, timeout=10)
        return response.status_code, response.content

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                status, body = peer._answer(self.path, self.rfile.read(length))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

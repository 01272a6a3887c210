"""An SP-API host on loopback for the proxy's tests: it answers every call with `status`,
`headers` and `body` (after `delay` seconds; the Sellers API's probe with `sellers_status`)
and records what reached it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class AmazonPeer:
    status: int = 200
    sellers_status: int | None = None  # None: `status`, as every other path
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"payload": []}'
    delay: float = 0.0
    seen: list[Request] = field(default_factory=list)
    url: str = ""

    def start(self) -> AmazonPeer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                peer.seen.append(Request(self.command, self.path, dict(self.headers), self._body()))
                time.sleep(peer.delay)
                sellers = self.path.startswith("/sellers/") and peer.sellers_status is not None
                self.send_response(peer.sellers_status if sellers else peer.status)
                for name, value in peer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(peer.body)))
                self.end_headers()
                self.wfile.write(peer.body)

            def _body(self) -> bytes:
                if "chunked" not in self.headers.get("transfer-encoding", ""):
                    return self.rfile.read(int(self.headers.get("content-length") or 0))
                body = b""  # read as Amazon would, to the last chunk (or the sender's end)
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    body += self.rfile.read(size)
                    self.rfile.readline()
                return body

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

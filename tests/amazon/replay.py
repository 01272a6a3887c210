"""A loopback HTTP peer that answers fixed Amazon responses by path, for replaying Amazon's
published examples through the real adapter."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def sellers_model() -> dict[str, Any]:
    return json.loads((FIXTURES / "sellers.json").read_text())


def example(path: str, status: str = "200") -> dict[str, Any]:
    """The model's example answer of an operation (its `examples`, else its sandbox one)."""
    response = sellers_model()["paths"][path]["get"]["responses"][status]
    examples = response.get("examples")
    if examples:
        return examples.get("application/json", examples)
    return response["x-amzn-api-sandbox"]["static"][0]["response"]


@contextmanager
def replaying(answers: dict[str, tuple[int, Any]]) -> Iterator[tuple[str, list[str]]]:
    """Serves `answers` (path suffix -> (status, JSON body)); yields base URL and paths asked."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            asked.append(self.path)
            for suffix, (status, body) in answers.items():
                if self.path.split("?")[0].endswith(suffix):
                    data = json.dumps(body).encode()
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

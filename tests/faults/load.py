"""Concurrent clients driving connections through their first steps, keeping every
command the service acknowledged (a 2xx) and how every request ended."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

CONNECTION = {
    "owner_email": "owner@example.com",
    "region": "na",
    "marketplace_ids": ["ATVPDKIKX0DER"],
}
# Each client walks one connection through these, then starts another.
STEPS = ("create", "resend_invitation", "start_authorization", "disconnect")


@dataclass(frozen=True)
class Ack:
    """The service said the command committed: the connection is at `version`, `state`."""

    connection_id: str
    version: int
    state: str


@dataclass(frozen=True)
class Outcome:
    started: float
    ended: float
    status: int | None  # None: no HTTP answer (refused, reset, timed out)
    command: str = ""
    idempotency_key: str | None = None
    code: str | None = None
    retry_after: str | None = None
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Load:
    url: str
    api_key: str
    clients: int = 6
    timeout: float = 30.0
    pause: float = 0.0  # seconds each client waits between commands
    # Half the clients create without an Idempotency-Key: their creates (and then their
    # actions) stay on the server's event loop (the loop's group commit).
    keyless_creates: bool = False
    acks: list[Ack] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Load:
        for index in range(self.clients):
            keyless = self.keyless_creates and index % 2 == 1
            thread = threading.Thread(target=self._client, args=(keyless,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> Load:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        return self

    def between(self, start: float, end: float) -> list[Outcome]:
        """Requests sent and answered within [start, end] (monotonic seconds)."""
        return [o for o in self.outcomes if o.started >= start and o.ended <= end]

    def tally(self) -> Counter:
        return Counter(o.code or o.error or str(o.status) for o in self.outcomes)

    def _client(self, keyless: bool = False) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=self.timeout) as http:
            step, connection_id = 0, ""
            while not self._stop.is_set():
                command = STEPS[step]
                if command == "create":
                    request = http.build_request(
                        "POST",
                        "/v1/connections",
                        json=CONNECTION,
                        headers={} if keyless else {"Idempotency-Key": uuid.uuid4().hex},
                    )
                else:
                    request = http.build_request(
                        "POST", f"/v1/connections/{connection_id}/{command}"
                    )
                body = self._send(http, request, command)
                if body is None:  # not acknowledged: start over with a new connection
                    step = 0
                    time.sleep(0.05)
                    continue
                connection_id = body["id"]
                step = (step + 1) % len(STEPS)
                self._stop.wait(self.pause)

    def _send(self, http: httpx.Client, request: httpx.Request, command: str) -> dict | None:
        sent = {"command": command, "idempotency_key": request.headers.get("idempotency-key")}
        started = time.monotonic()
        try:
            response = http.send(request)
        except httpx.HTTPError as e:
            self._record(Outcome(started, time.monotonic(), None, error=type(e).__name__, **sent))
            return None
        ended = time.monotonic()
        body = _json(response)
        if response.is_success:
            self._record(
                Outcome(started, ended, response.status_code, **sent),
                Ack(body["id"], body["version"], body["state"]),
            )
            return body
        self._record(
            Outcome(
                started,
                ended,
                response.status_code,
                code=body.get("code"),
                retry_after=response.headers.get("retry-after"),
                **sent,
            )
        )
        return None

    def _record(self, outcome: Outcome, ack: Ack | None = None) -> None:
        with self._lock:
            self.outcomes.append(outcome)
            if ack is not None:
                self.acks.append(ack)


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}

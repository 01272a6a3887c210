"""What each load thread sends: one generator of requests per operation, and the clients.

A generator yields `(method, path, json_body)` and is sent each response back, so a
sequence can use what the server answered (the lifecycle mix acts on what it created).
Connection ids are split between threads, so no two clients race on one connection.

Each thread has its own keep-alive connection. The default client is the standard
library's `http.client`: on this two-core machine the load process shares the CPU with
the server, and `httpx.Client` costs about five times its CPU per request (0.48 ms
against 0.1 ms here), enough to make the load process, not the server, the bottleneck
of the trivial endpoint. `BENCH_CLIENT=httpx` uses one `httpx.Client` per thread instead.
"""

from __future__ import annotations

import http.client
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx


@dataclass(frozen=True)
class Reply:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Request = tuple[str, str, Any]
Requests = Generator[Request, Reply, None]

CREATE_BODY = {
    "owner_email": "owner@example.com",
    "region": "na",
    "marketplace_ids": ["ATVPDKIKX0DER"],
    "account_type": "seller",
}
LIST_QUERY = "/v1/connections?state=invited&region=na&limit=20"


def healthz(_: list[str], job: dict[str, Any]) -> Requests:
    while True:
        yield "GET", "/healthz", None


def get(ids: list[str], job: dict[str, Any]) -> Requests:
    for cid in itertools.cycle(ids):
        yield "GET", f"/v1/connections/{cid}", None


def listing(_: list[str], job: dict[str, Any]) -> Requests:
    while True:
        yield "GET", job.get("query", LIST_QUERY), None


def create(_: list[str], job: dict[str, Any]) -> Requests:
    while True:
        yield "POST", "/v1/connections", job.get("body", CREATE_BODY)


def action(ids: list[str], job: dict[str, Any]) -> Requests:
    """Repeatable actions cycle over the thread's connections; one-shot actions use each
    connection once and the thread stops when its share is spent."""
    order: Iterable[str] = ids if job["once"] else itertools.cycle(ids)
    for cid in order:
        yield "POST", f"/v1/connections/{cid}/{job['action']}", job.get("body")


def lifecycle(_: list[str], job: dict[str, Any]) -> Requests:
    """The memory run's mix: create a connection, then act on it `repeat` times."""
    while True:
        created = yield "POST", "/v1/connections", CREATE_BODY
        if created.status_code != 201:
            continue
        cid = created.json()["id"]
        for _ in range(job["repeat"]):
            yield "POST", f"/v1/connections/{cid}/start_authorization", None


def access_token(ids: list[str], job: dict[str, Any]) -> Requests:
    """Cached access tokens: each thread asks for its connections' tokens again and again."""
    for cid in itertools.cycle(ids):
        yield "POST", f"/v1/connections/{cid}/access_tokens", {"api": "sp-api"}


def fixed(ids: list[str], job: dict[str, Any]) -> Requests:
    """One path, `{id}` replaced by the thread's connection: the proxy and Amazon direct."""
    for cid in itertools.cycle(ids or [""]):
        yield "GET", job["path"].replace("{id}", cid), None


OPERATIONS: dict[str, Callable[[list[str], dict[str, Any]], Requests]] = {
    "healthz": healthz,
    "get": get,
    "list": listing,
    "create": create,
    "action": action,
    "lifecycle": lifecycle,
    "access_token": access_token,
    "fixed": fixed,
}


class StdlibClient:
    def __init__(self, url: str, api_key: str, extra: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {api_key}", **(extra or {})}
        self.json_headers = {**self.headers, "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: Any = None) -> Reply:
        if body is None:
            self.connection.request(method, path, headers=self.headers)
        else:
            self.connection.request(
                method, path, body=json.dumps(body).encode(), headers=self.json_headers
            )
        response = self.connection.getresponse()
        return Reply(response.status, response.read())

    def close(self) -> None:
        self.connection.close()


class HttpxClient:
    def __init__(self, url: str, api_key: str, extra: dict[str, str] | None = None) -> None:
        self.client = httpx.Client(
            base_url=url,
            timeout=60,
            headers={"Authorization": f"Bearer {api_key}", **(extra or {})},
            limits=httpx.Limits(max_connections=1),
        )

    def request(self, method: str, path: str, body: Any = None) -> Reply:
        response = self.client.request(method, path, json=body)
        return Reply(response.status_code, response.content)

    def close(self) -> None:
        self.client.close()


CLIENTS = {"stdlib": StdlibClient, "httpx": HttpxClient}


class Plan:
    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        self.operation = OPERATIONS[job["op"]]

    def worker(self, i: int) -> Callable[..., None]:
        job = self.job
        ids = job.get("ids", [])[i :: job["clients"]]
        extra = job.get("headers", {}).get(str(i)) or job.get("headers", {}).get("*")
        client = CLIENTS[job.get("client", "stdlib")](job["url"], job["api_key"], extra)
        client.request("GET", "/healthz")  # open the connection before the clock starts
        requests = self.operation(ids, job)

        def run(
            deadline: float, take: Callable[[], bool], latencies: list[float], errors: Counter
        ) -> None:
            clock = time.perf_counter
            try:
                method, path, body = next(requests)
                while clock() < deadline and take():
                    began = clock()
                    response = client.request(method, path, body)
                    took = clock() - began
                    if response.status_code < 400:
                        latencies.append(took)
                    else:
                        errors[str(response.status_code)] += 1
                    method, path, body = requests.send(response)
            except StopIteration:
                pass
            finally:
                client.close()

        return run

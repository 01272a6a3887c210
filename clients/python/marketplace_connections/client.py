"""The client: the generated operations, called with an API key, an `Idempotency-Key`
where the operation honours one, retries (retries.py), problems raised (problems.py) and
every page of a list."""

from __future__ import annotations

import inspect
import typing
import uuid
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

import httpx

from .generated.client import AuthenticatedClient
from .generated.types import UNSET
from .problems import raise_for_problem
from .retries import RetryTransport


def _body(send: Any, parameter: inspect.Parameter, given: Any) -> Any:
    """The operation's body model from a mapping; None for an optional body left out."""
    if given is None and parameter.default is not inspect.Parameter.empty:
        return parameter.default
    if not isinstance(given, Mapping):
        return given
    annotation = typing.get_type_hints(send)["body"]
    for kind in (annotation, *typing.get_args(annotation)):
        if hasattr(kind, "from_dict"):
            return kind.from_dict(given)
    return given


class Client:
    """`Client(base_url, api_key)`; then `client.call(operation, **arguments)` with any
    operation module of `marketplace_connections.generated.api`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        retrying = RetryTransport(transport, max_retries=max_retries, max_wait=max_retry_wait)
        self.api = AuthenticatedClient(
            base_url=base_url.rstrip("/"),
            token=api_key,
            timeout=httpx.Timeout(timeout),
            httpx_args={"transport": retrying},
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.api.get_httpx_client().close()

    def call(self, operation: ModuleType, /, **arguments: Any) -> Any:
        """Calls a generated operation; returns its answer as the generated model (a
        `Connection`, an `AccessToken`, …) or raises ProblemError.

        `body` may be the generated model or a plain mapping (made into the model). An
        operation that honours `Idempotency-Key` gets a fresh one unless `idempotency_key`
        is given; the retries below send the same key again."""
        send = operation.sync_detailed
        parameters = inspect.signature(send).parameters
        if "idempotency_key" in parameters and arguments.get("idempotency_key") in (None, UNSET):
            arguments["idempotency_key"] = str(uuid.uuid4())
        if "body" in parameters:
            arguments["body"] = _body(send, parameters["body"], arguments.get("body"))
        response = send(client=self.api, **arguments)
        raise_for_problem(response.status_code, response.content, response.headers)
        return response.parsed

    def pages(self, operation: ModuleType, /, **arguments: Any) -> Iterator[Any]:
        """Every item of a list, page after page (`starting_after` cursors), lazily: the
        generated models of its items (a `Connection`, an `Event`, …)."""
        while True:
            response = operation.sync_detailed(client=self.api, **arguments)
            raise_for_problem(response.status_code, response.content, response.headers)
            page = response.parsed
            yield from page.data
            if not page.has_more or not page.data:
                return
            cursor = getattr(page, "next_cursor", None)
            if cursor is None or cursor is UNSET:
                cursor = page.data[-1].id
            arguments["starting_after"] = cursor

    def proxy(
        self, connection_id: str, api: str, method: str, path: str, **request: Any
    ) -> httpx.Response:
        """Calls Amazon through the service (`api`: "sp-api" or "ads"); Amazon's answer as
        it is. The service's own refusals (say ACCESS_REVOKED) raise ProblemError."""
        url = f"/v1/connections/{connection_id}/proxy/{api}/{path.lstrip('/')}"
        response = self.api.get_httpx_client().request(method, url, **request)
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            raise_for_problem(response.status_code, response.read(), response.headers)
        return response

"""A refusal from the service as a typed exception: the RFC 9457 problem's `code`,
`detail` and, for a refused action, `allowed_actions`."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .generated.models.problem import Problem


class ApiError(Exception):
    """An error response that is not a problem document (say, from a proxy in between)."""

    def __init__(self, status: int, body: bytes, headers: httpx.Headers) -> None:
        super().__init__(f"HTTP {status}: {body[:200].decode(errors='replace')}")
        self.status = status
        self.body = body
        self.headers = headers


class ProblemError(ApiError):
    """`application/problem+json` from the service. `code` is stable (GET /v1/errors lists
    them); `detail` is for people; `allowed_actions` is set when an action was refused in
    the connection's state (INVALID_TRANSITION)."""

    def __init__(self, problem: Problem, body: bytes, headers: httpx.Headers) -> None:
        super().__init__(problem.status, body, headers)
        self.args = (f"{problem.code}: {problem.detail}",)
        self.problem = problem
        self.code: str = problem.code
        self.detail: str = problem.detail
        self.title: str = problem.title
        extra = problem.additional_properties
        self.allowed_actions: list[str] | None = extra.get("allowed_actions")
        self.retry_after: str | None = headers.get("retry-after")

    @property
    def request_id(self) -> str | None:
        value = self.problem.request_id
        return value if isinstance(value, str) else None


def raise_for_problem(status: int, body: bytes, headers: httpx.Headers) -> None:
    """Raises ProblemError (or ApiError) for a 4xx/5xx response; nothing otherwise."""
    if status < 400:
        return
    document: Any = None
    if "json" in headers.get("content-type", ""):
        try:
            document = json.loads(body)
        except ValueError:
            document = None
    if isinstance(document, dict) and {"code", "status", "title", "detail", "type"} <= set(
        document
    ):
        raise ProblemError(Problem.from_dict(document), body, headers)
    raise ApiError(status, body, headers)

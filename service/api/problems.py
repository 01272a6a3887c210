"""The one place exceptions become RFC 9457 problem responses, each with a stable `code`."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from psycopg_pool import PoolTimeout

from domain.errors import entry
from domain.exceptions import DomainError
from service.api.pages import error_page, wants_html

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "2"
WWW_AUTHENTICATE = 'Bearer realm="connections"'


def problem(
    request: Request,
    code: str,
    detail: str,
    situation: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The problem for `code`, with the status the catalogue gives it (in `situation`)."""
    item = entry(code)
    status = item.status(situation)
    if status == 401:  # RFC 9110 section 11.6.1: a 401 names the scheme it wants
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE, **(headers or {})}
    if wants_html(request):  # a person's browser never sees a JSON problem
        page = error_page(request, status, item.title, detail, code=code, steps=item.remediation)
        page.headers.update(headers or {})
        return page
    body = {
        "type": f"/v1/errors#{code}",
        "title": item.title,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request.scope.get("state", {}).get("request_id"),
        **extra,
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_of(exc: Exception) -> int:
    """The status a refused command is answered with (what an access log records)."""
    if isinstance(exc, DomainError):
        return entry(exc.code).status(exc.situation)
    return 500


def on_domain_error(request: Request, exc: DomainError) -> Response:
    extra = dict(exc.extra)
    headers = extra.pop("headers", None)
    return problem(request, exc.code, exc.detail, exc.situation, headers, **extra)


_FORMAT_HINTS = {
    "email": "must be an e-mail address such as owner@example.com",
    "marketplace_ids": "must be Amazon marketplace IDs such as ATVPDKIKX0DER",
    "return_url": "must be an http(s) URL",
    "url": "must be an http(s) URL",
}


def _message(field: str | None, message: str) -> str:
    """msgspec names the regex a value failed; a person wants to know what is expected."""
    if "matching regex" in message:
        name = (field or "").rsplit(".", 1)[-1].rstrip("]").split("[")[0]
        for key, hint in _FORMAT_HINTS.items():
            if name.endswith(key):
                return hint
        return "has an invalid format"
    return message


def _required_fields(request: Request) -> list[str]:
    try:
        body = request.route_handler.parsed_fn_signature.parameters["data"].annotation
        return [f.name for f in msgspec.structs.fields(body) if f.required]
    except (KeyError, TypeError, AttributeError):
        return []


def on_validation(request: Request, exc: ValidationException) -> Response:
    extra = exc.extra if isinstance(exc.extra, list) else []
    if any(
        isinstance(e, dict) and e.get("key") == "data" and e.get("message") == "'data'"
        for e in extra
    ):
        # Litestar's way of saying the body was empty.
        fields = _required_fields(request)
        detail = "A JSON object body is required" + (
            f" with {', '.join(fields)}." if fields else "."
        )
        return problem(
            request,
            "VALIDATION_ERROR",
            detail,
            errors=[{"field": f, "message": "required", "source": "body"} for f in fields],
        )
    errors = [
        {
            "field": e.get("key"),
            "message": _message(e.get("key"), str(e.get("message"))),
            "source": e.get("source"),
        }
        for e in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(e, dict)
    ]
    detail = (
        "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else str(e["message"]) for e in errors
        )
        or exc.detail
    )
    return problem(request, "VALIDATION_ERROR", detail, errors=errors)


_BY_TYPE: list[tuple[type[HTTPException], str, str]] = [
    (NotAuthorizedException, "UNAUTHENTICATED", "A valid API key is required."),
    (PermissionDeniedException, "FORBIDDEN", "This API key may not do that."),
    (NotFoundException, "NOT_FOUND", "No such resource."),
    (MethodNotAllowedException, "METHOD_NOT_ALLOWED", "Method not allowed on this resource."),
    (RequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "The request body is too large."),
    (TooManyRequestsException, "RATE_LIMITED", "Too many requests; slow down."),
]


def on_http_exception(request: Request, exc: HTTPException) -> Response:
    for kind, code, default in _BY_TYPE:
        if isinstance(exc, kind):
            detail = exc.detail if exc.detail and exc.detail != type(exc).__name__ else default
            return problem(request, code, detail, headers=exc.headers)
    if 400 <= exc.status_code < 500:
        # Litestar's own client errors (bad content-length, undecodable body…).
        return problem(request, "VALIDATION_ERROR", str(exc.detail))
    return on_unexpected(request, exc)


def on_store_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("store unavailable: %s", type(exc).__name__)
    return problem(
        request,
        "SERVICE_UNAVAILABLE",
        "The database is unavailable; retry after the indicated delay.",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return problem(
        request,
        "INTERNAL_ERROR",
        "Something went wrong on our side; quote the request_id to support.",
    )


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    DomainError: on_domain_error,
    ValidationException: on_validation,
    HTTPException: on_http_exception,
    OperationalError: on_store_unavailable,
    InterfaceError: on_store_unavailable,
    PoolTimeout: on_store_unavailable,
    # The same failures met on the event loop (adapters.tables.async_reads), unwrapped.
    psycopg.OperationalError: on_store_unavailable,
    psycopg.InterfaceError: on_store_unavailable,
    Exception: on_unexpected,
}

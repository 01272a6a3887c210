"""Rendering the owner's pages: templates, the stylesheet, and the headers every page
carries (a strict Content-Security-Policy, no referrer, no caching, no framing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

HERE = Path(__file__).parent
HTML = "text/html"  # litestar adds "; charset=utf-8" to every text/* type


def template_config(*directories: Path) -> TemplateConfig:
    """The layout and the error page, then each capability's own pages (`directories`),
    which extend the layout."""
    return TemplateConfig(directory=[HERE / "templates", *directories], engine=JinjaTemplateEngine)


def static_router(*directories: Path) -> Any:
    """The layout's stylesheet, then each capability's own files, under one path."""
    return create_static_files_router(
        path="/connect/static",
        directories=[HERE / "static", *directories],
        include_in_schema=False,
        cache_control=None,
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(form_targets: tuple[str, ...] = ()) -> dict[str, str]:
    """Nothing loads from another origin; a form may lead only here or to Amazon's consent
    (browsers check form-action on the redirect too). No referrer: the page's address is
    the owner's link."""
    targets = " ".join(sorted({origin(t) for t in form_targets}))
    policy = (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; "
        f"form-action 'self'{' ' + targets if targets else ''}"
    )
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    form_targets: tuple[str, ...] = (),
) -> Response:
    body = request.app.template_engine.get_template(name).render(**context)
    return Response(
        body, status_code=status, media_type=HTML, headers=security_headers(form_targets)
    )


def wants_html(request: Request) -> bool:
    """A person's browser: it names text/html and does not prefer JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


def error_page(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    code: str | None = None,
    steps: list[str] | tuple[str, ...] = (),
) -> Response:
    return render(
        request,
        "error.html",
        {
            "title": title,
            "detail": detail,
            "steps": list(steps),
            "code": code,
            "request_id": request.scope.get("state", {}).get("request_id"),
            "tenant": None,
        },
        status=status,
    )

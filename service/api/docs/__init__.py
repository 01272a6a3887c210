"""/docs: the API reference (Swagger UI) from this service's own files, so it works with
no internet: swagger-ui-dist is vendored in `static/` with its licence (see its README).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).with_name("static")
ASSETS = "/docs/assets"
_NOSCRIPT = (
    b"<body><noscript><p>This reference needs JavaScript. The same contract, as a file: "
    b'<a href="/docs/openapi.json">openapi.json</a>.</p></noscript>'
)


class OfflineSwagger(SwaggerRenderPlugin):
    """Litestar's Swagger UI page with every asset from ASSETS (its defaults load them
    and the favicon from CDNs) and Swagger's online validator off."""

    def __init__(self) -> None:
        super().__init__(
            path="/",
            js_url=f"{ASSETS}/swagger-ui-bundle.js",
            css_url=f"{ASSETS}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
            favicon=f'<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">',
        )

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        page = super().render(request, openapi_schema)
        return (
            page.replace(b"<html>", b'<html lang="en">', 1)
            .replace(b"<body>", _NOSCRIPT, 1)
            .replace(b"deepLinking: true,", b"deepLinking: true,\n  validatorUrl: null,", 1)
        )


def assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS,
        directories=[STATIC],
        name="docs-assets",
        cache_control=CacheControlHeader(max_age=86400, public=True),
    )

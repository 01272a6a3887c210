"""OPTIONS answers with every method of the path.

Litestar adds an OPTIONS handler to each path itself, but when a path's handlers are
registered one by one (GET and POST /v1/connections), that handler keeps the route it was
first added to and lists only that one's methods (`Allow: OPTIONS, POST`). One explicit
handler per path, built after all of them are known, lists them all (405 answers already
do). Not in the schema: contract tools treat OPTIONS as implicit (as HEAD).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from litestar import Response, route
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler


def options_handlers(handlers: Iterable[Any]) -> list[HTTPRouteHandler]:
    """For the top-level handlers' paths (a Router's paths keep litestar's own). Register
    them before the others: a path whose first handler is already an OPTIONS one gets no
    handler of litestar's."""
    methods: dict[str, set[str]] = defaultdict(set)
    for handler in handlers:
        if isinstance(handler, HTTPRouteHandler):
            for path in handler.paths:
                methods[path] |= set(handler.http_methods)
    return [
        _options(path, ", ".join(sorted(found | {"OPTIONS"})))
        for path, found in methods.items()
        if "OPTIONS" not in found
    ]


def _options(path: str, allow: str) -> HTTPRouteHandler:
    def answer() -> Response:
        return Response(content=None, status_code=204, headers={"Allow": allow})

    return route(
        path,
        http_method=[HttpMethod.OPTIONS],
        include_in_schema=False,
        sync_to_thread=False,
        name=f"options:{path}",
    )(answer)

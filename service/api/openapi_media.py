"""The media types of answers that are not JSON, which litestar cannot see from a handler
returning `Response` or `Stream`: the Mermaid diagram and the audit export."""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import OpenAPIMediaType, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType

_TEXT = OpenAPIType.STRING
MEDIA = {
    ("/v1/state-machine", "get"): (
        "The states and transitions: JSON, or with format=mermaid a Mermaid diagram",
        {
            # service.api.responses.StateMachine, named by the route's `responses=`
            "application/json": Reference(ref="#/components/schemas/StateMachine"),
            "text/plain": Schema(type=_TEXT, description="Mermaid stateDiagram-v2 text"),
        },
    ),
    ("/v1/audit/export", "get"): (
        "The tenant's events, oldest first: JSON lines (format=jsonl) or CSV (format=csv)",
        {
            "application/x-ndjson": Schema(type=_TEXT, description="one JSON event per line"),
            "text/csv": Schema(type=_TEXT, description="a header row, then one row per event"),
        },
    ),
}


def document_media(app: Litestar) -> None:
    """Replaces the 200 answer's content of each operation in MEDIA, in place."""
    paths = app.openapi_schema.paths or {}
    for (path, method), (description, content) in MEDIA.items():
        operation = getattr(paths[path], method)
        ok = operation.responses["200"]
        ok.description = description
        ok.content = {media: OpenAPIMediaType(schema=schema) for media, schema in content.items()}

"""Reference and ops routes: the state machine, the error catalogue, health."""

from typing import Any, Literal

from service.api.threads import blocking
from litestar import Request, Response, get

from domain import lifecycle
from domain.errors import CATALOGUE
from service.api.problems import on_store_unavailable


@get("/v1/state-machine", operation_id="getStateMachine", tags=["reference"],
     summary="States and transitions (JSON, or Mermaid text)")
async def state_machine(format: Literal["json", "mermaid"] = "json") -> Response:  # noqa: A002
    if format == "mermaid":
        return Response(lifecycle.mermaid(), media_type="text/plain; charset=utf-8")
    return Response(lifecycle.describe())


@get("/v1/errors", operation_id="listErrors", tags=["reference"],
     summary="The error catalogue: codes, seller-facing messages, remediation")
async def error_catalogue() -> dict[str, Any]:
    return {"object": "list", "data": [e.as_dict() for e in CATALOGUE.values()]}


@get("/healthz", operation_id="healthz", tags=["ops"], summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", operation_id="readyz", tags=["ops"],
     summary="The store answers and the read model is caught up")
@blocking
def readyz(request: Request) -> Response:
    services = request.app.state.services
    try:
        position = services.view.position(services.projection.name)
        latest = services.app.recorder.max_notification_id() or 0
    except Exception as exc:  # noqa: BLE001 - any store failure means "not ready"
        return on_store_unavailable(request, exc)
    lag = latest - position
    body = {"status": "ok" if lag <= 1000 else "lagging", "store": "ok", "read_model_lag": lag}
    return Response(body, status_code=200 if lag <= 1000 else 503)


@get("/openapi.json", operation_id="openapi", tags=["ops"], include_in_schema=False)
async def openapi_json(request: Request) -> dict[str, Any]:
    return request.app.openapi_schema.to_schema()


ROUTES = [state_machine, error_catalogue, healthz, readyz, openapi_json]

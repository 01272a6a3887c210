"""Reference and ops routes: the state machine, the error catalogue, health, metrics."""

import logging
from typing import Any, Literal

from litestar import Request, Response, get

from domain import lifecycle
from domain.errors import CATALOGUE
from service.api.problems import RETRY_AFTER_SECONDS, problem
from service.api.responses import Catalogue, StateMachine, ok
from service.api.threads import blocking
from service.metrics import CONTENT_TYPE, STORE_ERRORS, exposition

log = logging.getLogger(__name__)


@get(
    "/v1/state-machine",
    operation_id="getStateMachine",
    responses=ok(StateMachine, "The states and transitions"),
    tags=["reference"],
    summary="States and transitions (JSON, or Mermaid text)",
)
async def state_machine(format: Literal["json", "mermaid"] = "json") -> Response:
    if format == "mermaid":
        return Response(lifecycle.mermaid(), media_type="text/plain")
    return Response(lifecycle.describe())


@get(
    "/v1/errors",
    operation_id="listErrors",
    responses=ok(Catalogue, "Every error code the service answers with"),
    tags=["reference"],
    summary="The error catalogue: codes, seller-facing messages, remediation",
)
async def error_catalogue() -> dict[str, Any]:
    return {"object": "list", "data": [e.as_dict() for e in CATALOGUE.values()]}


@get("/healthz", operation_id="healthz", tags=["ops"], summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/readyz",
    operation_id="readyz",
    tags=["ops"],
    summary="The store answers and the read model is caught up",
)
@blocking
def readyz(request: Request) -> Response:
    services = request.app.state.services
    settings = services.settings
    try:
        position = services.view.position(services.projection.name)
        latest = services.app.recorder.max_notification_id() or 0
        stuck = [f for f in (follower.stuck() for follower in services.followers) if f]
    except Exception as exc:
        STORE_ERRORS.labels("readyz").inc()
        log.warning("readyz: store unreachable: %s", type(exc).__name__)
        return _not_ready(request, ["the database is unreachable"], {"store": "unreachable"})
    checks: dict[str, Any] = {"store": "ok", "read_model_lag": latest - position}
    failing = []
    if checks["read_model_lag"] > settings.readyz_max_lag:
        failing.append(
            f"the read model trails the store by {checks['read_model_lag']} "
            f"events (bound {settings.readyz_max_lag})"
        )
    for fault in stuck:
        failing.append(
            f"follower {fault.follower} is stuck at position {fault.position} (connection "
            f"{fault.connection_id}): {fault.error}"
        )
    if stuck:
        checks["stuck_followers"] = [
            {k: getattr(f, k) for k in ("follower", "position", "connection_id", "topic", "error")}
            for f in stuck
        ]
    # The integrator's Amazon app credentials: a detail for the operator, never "not ready".
    checks["amazon"] = services.amazon.credentials.status()
    heartbeat = request.app.state.get("worker_heartbeat")
    if heartbeat is not None:  # only when this process runs the worker
        age = heartbeat.age()
        checks["worker_heartbeat_age_seconds"] = round(age, 1)
        if age > settings.worker_stale_after.total_seconds():
            failing.append(f"the worker has not finished a pass for {age:.0f} s")
    if failing:
        return _not_ready(request, failing, checks)
    return Response({"status": "ok", **checks})


def _not_ready(request: Request, failing: list[str], checks: dict[str, Any]) -> Response:
    return problem(
        request,
        "SERVICE_UNAVAILABLE",
        "Not ready: " + "; ".join(failing) + ".",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
        checks=checks,
    )


@get("/metrics", operation_id="metrics", tags=["ops"], include_in_schema=False)
@blocking
def metrics(request: Request) -> Response:
    connections = request.app.state.services.connections
    return Response(
        exposition(lambda: connections.fresh_view().count_by_state()), media_type=CONTENT_TYPE
    )


@get("/openapi.json", operation_id="openapi", tags=["ops"], include_in_schema=False)
async def openapi_json(request: Request) -> dict[str, Any]:
    return request.app.openapi_schema.to_schema()


ROUTES = [state_machine, error_catalogue, healthz, readyz, metrics, openapi_json]

"""The root, health, metrics and, in simulation only, the clock."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..auth import Caller, require_operator
from ..problems import RETRY_AFTER_SECONDS, ApiProblem, invalid_field
from ..schemas import SimClockIn, SimClockOut, beijing
from ..services import Health, Simulation

router = APIRouter(tags=["system"])


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """The site's root is the web console (a browser's first visit); the API is under /v1."""
    return RedirectResponse("/console/", status_code=307)


@router.get(
    "/v1/health",
    responses={503: {"description": "Not ready: a dependency the service needs is down."}},
)
def health(checker: Health) -> JSONResponse:
    """Readiness: 200 once the service can take commands, 503 (with ``Retry-After``) while
    its database is down. Each dependency's state is in ``checks``; it answers within a few
    seconds whatever is down."""
    report = checker.report()
    body: dict[str, object] = {
        "status": "ok" if report.ready else "unavailable",
        "store": report.store,
        "simulation": report.simulation,
        "checks": report.checks,
    }
    if report.ready:
        body["projections"] = report.projections
    headers = {} if report.ready else {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(body, status_code=200 if report.ready else 503, headers=headers)


@router.get("/v1/health/ready", include_in_schema=False)
def ready(checker: Health) -> JSONResponse:
    return health(checker)


@router.get("/v1/health/live")
def live() -> dict[str, str]:
    """Liveness: 200 while the process serves requests at all (it needs nothing else)."""
    return {"status": "alive"}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


@router.post("/v1/sim/clock", response_model=SimClockOut, tags=["simulation"])
def move_clock(body: SimClockIn, caller: Caller, simulation: Simulation) -> SimClockOut:
    """Move the simulated clock forward (never back), stepping through everything due on the
    way in time order, each at its own instant; answers once all of it has run."""
    require_operator(caller)
    if simulation is None:
        raise ApiProblem(404, "not_found", "The clock can only be moved with SMS_SIMULATION=1.")
    if (body.advance_seconds is None) == (body.now is None):
        raise invalid_field("body", "Give exactly one of advance_seconds and now.")
    if body.advance_seconds is not None:
        return SimClockOut(now=beijing(simulation.advance(body.advance_seconds)))
    assert body.now is not None
    return SimClockOut(now=beijing(simulation.move_to(body.now)))

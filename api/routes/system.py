"""Health, metrics and, in simulation only, the clock."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ...adapters.clock import SimulatedClock
from ...domain.time_range import RANGE_TEXT, in_range
from ..auth import Caller, Services, require_operator
from ..problems import RETRY_AFTER_SECONDS, ApiProblem
from ..schemas import SimClockIn, SimClockOut, beijing

router = APIRouter(tags=["system"])
MAX_JUMP = timedelta(days=366)  # the horizon of one move of the simulated clock


@router.get(
    "/v1/health",
    responses={503: {"description": "Not ready: a dependency the service needs is down."}},
)
def health(c: Services) -> JSONResponse:
    """Readiness: 200 once the service can take commands, 503 (with ``Retry-After``) while
    its database is down. Each dependency's state is in ``checks``; it answers within a few
    seconds whatever is down."""
    report = c.health.report()
    body: dict[str, object] = {
        "status": "ok" if report.ready else "unavailable",
        "store": "postgresql" if c.settings.is_postgres else "sqlite",
        "simulation": c.settings.simulation,
        "checks": report.checks,
    }
    if report.ready:
        try:
            body["projections"] = {
                name: {"position": position, "head": head}
                for name, (position, head) in c.read_models.positions().items()
            }
        except Exception:  # the database went away between the probe and this read
            body["projections"] = None
    headers = {} if report.ready else {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(body, status_code=200 if report.ready else 503, headers=headers)


@router.get("/v1/health/ready", include_in_schema=False)
def ready(c: Services) -> JSONResponse:
    return health(c)


@router.get("/v1/health/live")
def live() -> dict[str, str]:
    """Liveness: 200 while the process serves requests at all (it needs nothing else)."""
    return {"status": "alive"}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


@router.post("/v1/sim/clock", response_model=SimClockOut, tags=["simulation"])
def move_clock(body: SimClockIn, caller: Caller, c: Services) -> SimClockOut:
    """Move the simulated clock forward (never back), stepping through everything due on the
    way in time order, each at its own instant; answers once all of it has run."""
    require_operator(caller)
    clock = c.clock
    if not c.settings.simulation or not isinstance(clock, SimulatedClock):
        raise ApiProblem(404, "not_found", "The clock can only be moved with SMS_SIMULATION=1.")
    if (body.advance_seconds is None) == (body.now is None):
        raise ApiProblem(422, "validation_error", "Give exactly one of advance_seconds and now.")
    assert c.stepper is not None
    if body.advance_seconds is not None:
        if body.advance_seconds > MAX_JUMP.total_seconds():
            raise ApiProblem(422, "validation_error", f"One move is at most {MAX_JUMP.days} days.")
        target = clock.now() + timedelta(seconds=body.advance_seconds)
    else:
        assert body.now is not None
        target = body.now
    if target.tzinfo is None:
        raise ApiProblem(422, "validation_error", "now needs a time zone offset (e.g. +08:00).")
    if not in_range(target) or target - clock.now() > MAX_JUMP:
        raise ApiProblem(
            422, "validation_error",
            f"The simulated clock moves at most {MAX_JUMP.days} days at a time, and stays "
            f"{RANGE_TEXT}.",
        )  # fmt: skip
    try:
        now = c.stepper.move_to(target)  # everything due on the way, each at its own instant
    except ValueError as exc:
        raise ApiProblem(422, "validation_error", str(exc)) from None
    return SimClockOut(now=beijing(now))

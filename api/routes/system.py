"""Health, metrics and, in simulation only, the clock."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ...adapters.clock import SimulatedClock
from ..auth import Caller, Services, require_operator
from ..problems import ApiProblem
from ..schemas import SimClockIn, SimClockOut, beijing

router = APIRouter(tags=["system"])


@router.get("/v1/health")
def health(c: Services) -> dict[str, object]:
    """200 once the service can take commands."""
    return {
        "status": "ok",
        "store": "postgresql" if c.settings.is_postgres else "sqlite",
        "simulation": c.settings.simulation,
        "projections": {
            name: {"position": position, "head": f.head()}
            for f in c.followers
            for name, position in f.positions().items()
        },
    }


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
        target = clock.now() + timedelta(seconds=body.advance_seconds)
    else:
        assert body.now is not None
        target = body.now
    if target.tzinfo is None:
        raise ApiProblem(422, "validation_error", "now needs a time zone offset (e.g. +08:00).")
    try:
        now = c.stepper.move_to(target)  # everything due on the way, each at its own instant
    except ValueError as exc:
        raise ApiProblem(422, "validation_error", str(exc)) from None
    return SimClockOut(now=beijing(now))

"""Moving the simulated clock (contract: Simulation, ``POST /v1/sim/clock``), with its bounds.

Only with ``SMS_SIMULATION=1``: a move goes forward, at most ``MAX_JUMP`` at a time, and keeps
the clock within the supported range of times; the ``ClockStepper`` then walks it through
every due instant on the way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..domain.errors import InvalidInput
from ..domain.time_range import RANGE_TEXT, in_range
from .clock_stepper import ClockStepper, SteppableClock

MAX_JUMP = timedelta(days=366)  # the horizon of one move of the simulated clock


class SimulatedTime:
    def __init__(self, clock: SteppableClock, stepper: ClockStepper) -> None:
        self.clock = clock
        self.stepper = stepper

    def advance(self, seconds: float) -> datetime:
        if seconds > MAX_JUMP.total_seconds():
            raise InvalidInput(
                f"One move is at most {MAX_JUMP.days} days.", field="advance_seconds"
            )
        return self.move_to(self.clock.now() + timedelta(seconds=seconds))

    def move_to(self, target: datetime) -> datetime:
        """Everything due on the way happens, each at its own instant; returns the new now."""
        if target.tzinfo is None:
            raise InvalidInput("now needs a time zone offset (e.g. +08:00).", field="now")
        if not in_range(target) or target - self.clock.now() > MAX_JUMP:
            raise InvalidInput(
                f"The simulated clock moves at most {MAX_JUMP.days} days at a time, and stays "
                f"{RANGE_TEXT}."
            )
        try:
            return self.stepper.move_to(target)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None

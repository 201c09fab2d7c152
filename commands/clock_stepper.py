"""The simulated clock steps through time (contract: Simulation, ``POST /v1/sim/clock``).

A jump of the clock is walked one due instant at a time: at each, everything due by then is
done (reviews pass, scheduled sends go out and are handed over, receipts settle and refund,
messages expire), and only then does the clock move on to the next instant something is due.
So a send the provider passes at 20:29 is handed over at 20:29 and its receipts settle at
20:29:03, however far one call jumps, and one call of 86,400 seconds does a day's work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

MAX_STEPS = 1_000_000  # a jump is refused past this many distinct due instants


class SteppableClock(Protocol):
    def now(self) -> datetime: ...

    def move_to(self, instant: datetime) -> datetime:
        """Move forward to ``instant`` (never back)."""
        ...


# The first instant after ``now`` at which something is due, if any.
Timetable = Callable[[datetime], datetime | None]


class TooManySteps(Exception):
    """A jump over more due instants than ``MAX_STEPS``."""


class ClockStepper:
    def __init__(
        self,
        clock: SteppableClock,
        run_due: Callable[[], None],
        timetables: Sequence[Timetable],
    ) -> None:
        self.clock = clock
        self.run_due = run_due  # does everything due by the clock's now, then returns
        self.timetables = list(timetables)

    def move_to(self, target: datetime) -> datetime:
        """Walk the clock to ``target`` through every due instant on the way; returns it."""
        if target < self.clock.now():
            raise ValueError("the simulated clock never moves back")
        self.run_due()  # what was due before the move happens at its own time
        for _ in range(MAX_STEPS):
            upcoming = self._next_due(target)
            if upcoming is None:
                break
            self.clock.move_to(upcoming)
            self.run_due()
        else:
            raise TooManySteps(f"more than {MAX_STEPS} due instants before {target}")
        self.clock.move_to(target)
        self.run_due()
        return target

    def _next_due(self, target: datetime) -> datetime | None:
        now = self.clock.now()
        due = [t for t in (next_due(now) for next_due in self.timetables) if t is not None]
        soonest = min(due, default=None)
        return soonest if soonest is not None and soonest <= target else None

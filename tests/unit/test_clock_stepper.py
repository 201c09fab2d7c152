"""The simulated clock steps through a jump one due instant at a time (contract: Simulation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from smsplat.adapters.clock import SimulatedClock
from smsplat.commands.clock_stepper import ClockStepper

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Agenda:
    """Things due at instants; running what is due records when it ran (a fake timetable)."""

    def __init__(self, clock: SimulatedClock, due: list[datetime]) -> None:
        self.clock = clock
        self.due = sorted(due)
        self.ran: list[tuple[datetime, datetime]] = []  # (due, ran at)

    def next_due_after(self, now: datetime) -> datetime | None:
        return next((t for t in self.due if t > now), None)

    def run_due(self) -> None:
        now = self.clock.now()
        for t in [t for t in self.due if t <= now]:
            self.due.remove(t)
            self.ran.append((t, now))


def test_each_due_thing_runs_at_its_own_instant_within_one_jump() -> None:
    clock = SimulatedClock(T0)
    agenda = Agenda(clock, [T0 + timedelta(minutes=29), T0 + timedelta(hours=3),
                            T0 + timedelta(minutes=29, seconds=3)])  # fmt: skip
    stepper = ClockStepper(clock, agenda.run_due, [agenda.next_due_after])
    assert stepper.move_to(T0 + timedelta(days=1)) == T0 + timedelta(days=1)
    assert agenda.ran == [(t, t) for t in sorted(t for t, _ in agenda.ran)]
    assert len(agenda.ran) == 3
    assert clock.now() == T0 + timedelta(days=1)


def test_what_work_makes_due_on_the_way_is_stepped_to_as_well() -> None:
    """A hand-over at 20:29 makes its receipt due at 20:29:03: the stepper goes there too."""
    clock = SimulatedClock(T0)
    agenda = Agenda(clock, [T0 + timedelta(minutes=1)])
    receipts: list[datetime] = []

    def run_due() -> None:
        before = len(agenda.ran)
        agenda.run_due()
        for _, at in agenda.ran[before:]:
            receipts.append(at + timedelta(seconds=3))
        while receipts and receipts[0] <= clock.now():
            agenda.ran.append((receipts.pop(0), clock.now()))

    def next_receipt(now: datetime) -> datetime | None:
        return next((t for t in receipts if t > now), None)

    stepper = ClockStepper(clock, run_due, [agenda.next_due_after, next_receipt])
    stepper.move_to(T0 + timedelta(hours=1))
    assert agenda.ran == [(T0 + timedelta(minutes=1), T0 + timedelta(minutes=1)),
                          (T0 + timedelta(minutes=1, seconds=3),
                           T0 + timedelta(minutes=1, seconds=3))]  # fmt: skip


def test_nothing_beyond_the_target_runs_and_the_clock_never_moves_back() -> None:
    clock = SimulatedClock(T0)
    later = T0 + timedelta(hours=2)
    agenda = Agenda(clock, [T0 + timedelta(hours=1), later])
    stepper = ClockStepper(clock, agenda.run_due, [agenda.next_due_after])
    stepper.move_to(T0 + timedelta(hours=1))
    assert [t for t, _ in agenda.ran] == [T0 + timedelta(hours=1)]
    assert agenda.due == [later]
    with pytest.raises(ValueError):
        stepper.move_to(T0)
    stepper.move_to(clock.now())  # a jump of 0 runs what is due now, and nothing else
    assert agenda.due == [later]

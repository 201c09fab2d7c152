"""Clock adapters: the real clock, and the simulated one that ``/v1/sim/clock`` moves."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that stands still until moved, and only ever moves forward.

    It starts at the real time (or ``start``), so simulated runs read naturally.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the simulated clock never moves back")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def move_to(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("the instant must carry a timezone offset")
        with self._lock:
            if instant < self._now:
                raise ValueError("the simulated clock never moves back")
            self._now = instant
            return self._now

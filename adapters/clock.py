"""Clock adapters: the real clock, and the simulated one that ``/v1/sim/clock`` moves."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .sql import SqlDatabase


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that stands still until moved, and only ever moves forward.

    It starts at the real time (or ``start``), so simulated runs read naturally. ``on_move``
    is told every new time (the service stores it, so a restart never moves the clock back).
    """

    def __init__(
        self,
        start: datetime | None = None,
        on_move: Callable[[datetime], None] | None = None,
    ) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()
        self._on_move = on_move

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the simulated clock never moves back")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._moved()
            return self._now

    def move_to(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("the instant must carry a timezone offset")
        with self._lock:
            if instant < self._now:
                raise ValueError("the simulated clock never moves back")
            self._now = instant
            self._moved()
            return self._now

    def _moved(self) -> None:
        if self._on_move is not None:
            self._on_move(self._now)


class StoredSimulatedTime:
    """The simulated time, kept in the shared database so it survives restarts."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def create_tables(self) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS simulated_clock "
                "(id INTEGER PRIMARY KEY, now TEXT NOT NULL)"
            )

    def load(self) -> datetime | None:
        with self.db.reading() as tx:
            rows = tx.execute("SELECT now FROM simulated_clock WHERE id = 1")
        return datetime.fromisoformat(rows[0][0]) if rows else None

    def save(self, now: datetime) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO simulated_clock (id, now) VALUES (1, %s) "
                "ON CONFLICT (id) DO UPDATE SET now = excluded.now",
                (now.astimezone(UTC).isoformat(),),
            )

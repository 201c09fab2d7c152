"""Background loops: one daemon thread per recurring job (a follower, the send worker, ...).

A job is a function that does one step and says how much it did. The loop calls it again at
once while there is work, otherwise after ``idle_seconds`` or as soon as ``wake()`` is called.
A step that raises (the database or the broker away) is retried after a pause that doubles
up to ``MAX_ERROR_PAUSE_SECONDS``, so an outage costs one log line and a few probes, not a
storm; the first success after it resets the pause. ``failing_since`` tells health checks.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

log = logging.getLogger(__name__)

ERROR_PAUSE_SECONDS = 0.5
MAX_ERROR_PAUSE_SECONDS = 5.0  # a loop is back within seconds of an outage


class BackgroundLoop:
    def __init__(
        self,
        name: str,
        step: Callable[[], int],
        idle_seconds: float,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.on_stop = on_stop
        self.step = step
        self.idle_seconds = idle_seconds
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.failing_since: datetime | None = None  # wall clock; None while it works
        self.last_error: str | None = None

    def wake(self) -> None:
        self._wakeup.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.on_stop is not None:
            self.on_stop()

    def run_forever(self) -> None:
        """Run in the calling thread until ``stop()``."""
        pause = ERROR_PAUSE_SECONDS
        while not self._stopping.is_set():
            try:
                busy = self.step() > 0
            except Exception as error:
                self._failed(error)
                self._stopping.wait(pause * random.uniform(0.8, 1.2))
                pause = min(pause * 2, MAX_ERROR_PAUSE_SECONDS)
                continue
            if self.failing_since is not None:
                log.warning("%s works again", self.name)
                self.failing_since, self.last_error = None, None
            pause = ERROR_PAUSE_SECONDS
            if not busy:
                self._wakeup.wait(self.idle_seconds)
                self._wakeup.clear()

    def _failed(self, error: Exception) -> None:
        if self.failing_since is None:
            log.exception("%s failed; backing off and trying again", self.name)
            self.failing_since = datetime.now(UTC)
        else:
            log.debug("%s still failing: %s", self.name, error)
        self.last_error = f"{type(error).__name__}: {error}"[:300]


@dataclass
class BackgroundLoops:
    """The service's loops, by what they do; ``serve`` starts them all, the CLI's other
    commands the group they run."""

    projections: list[BackgroundLoop]
    sending: list[BackgroundLoop]
    kafka: list[BackgroundLoop]
    upkeep: list[BackgroundLoop] = field(default_factory=list)  # beside every API process

    def all(self) -> list[BackgroundLoop]:
        return [*self.projections, *self.sending, *self.kafka, *self.upkeep]

    def start(self, *groups: list[BackgroundLoop]) -> None:
        for group in groups or (self.projections, self.sending, self.kafka, self.upkeep):
            for loop in group:
                loop.start()

    def stop(self) -> None:
        for loop in reversed(self.all()):
            loop.stop()

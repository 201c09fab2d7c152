"""Background loops: one daemon thread per recurring job (a follower, the send worker, ...).

A job is a function that does one step and says how much it did. The loop calls it again at
once while there is work, otherwise after ``idle_seconds`` or as soon as ``wake()`` is called;
an exception is logged and the step retried after a pause, so one bad moment never stops it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

ERROR_PAUSE_SECONDS = 1.0


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
        while not self._stopping.is_set():
            try:
                busy = self.step() > 0
            except Exception:
                log.exception("%s failed; trying again", self.name)
                self._stopping.wait(ERROR_PAUSE_SECONDS)
                continue
            if not busy:
                self._wakeup.wait(self.idle_seconds)
                self._wakeup.clear()

"""Periodic upkeep: forgetting idempotency records and S9 counts past their retention."""

from __future__ import annotations

import logging
import threading

from ..adapters.idempotency import IdempotencyStore
from ..adapters.recipient_window import RecipientWindow
from ..commands.ports import Clock

log = logging.getLogger(__name__)


class Housekeeping:
    def __init__(
        self,
        idempotency: IdempotencyStore,
        clock: Clock,
        every_seconds: float = 600,
        windows: RecipientWindow | None = None,
    ):
        self.idempotency = idempotency
        self.windows = windows
        self.clock = clock
        self.every_seconds = every_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        now = self.clock.now()
        purged = self.idempotency.purge(now)
        if self.windows is not None:
            self.windows.purge(now)
        if purged:
            log.info("forgot %d idempotency records past their retention", purged)
        return purged

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="housekeeping", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("housekeeping failed; trying again later")
            self._stopping.wait(self.every_seconds)

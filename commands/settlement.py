"""The settlement timer: receipts due from the simulated carrier, and the 72-hour expiry (Q8).

It runs on the service clock, so ``/v1/sim/clock`` drives it in simulation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from .ports import Clock, Receipt
from .sending import SendingService

log = logging.getLogger(__name__)


class SettlementTimer:
    def __init__(
        self,
        sending: SendingService,
        clock: Clock,
        due_receipts: Callable[[datetime], list[Receipt]] | None,
        due_for_expiry: Callable[[datetime], list[str]],
        every_seconds: float = 0.5,
    ) -> None:
        self.sending = sending
        self.clock = clock
        self.due_receipts = due_receipts
        self.due_for_expiry = due_for_expiry
        self.every_seconds = every_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Settle what is due now; returns how many receipts and expiries it applied."""
        now = self.clock.now()
        done = 0
        if self.due_receipts is not None:
            receipts = self.due_receipts(now)
            if receipts:
                outcome = self.sending.record_receipts(
                    [{"message_id": r.message_id, "status": r.status} for r in receipts]
                )
                done += outcome.recorded
        for send_id in self.due_for_expiry(now):
            done += self.sending.expire(UUID(send_id)).expired
        return done

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="settlement", daemon=True)
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
                log.exception("settlement failed; trying again")
            self._stopping.wait(self.every_seconds)

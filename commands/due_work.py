"""Everything due by the clock's now, done in the calling thread: waiting sends whose time
came, hand-overs, receipts and expiries, and the read models they need (the simulated clock's
stepping and the tests call this; in production the background loops do the same work)."""

from __future__ import annotations

from typing import Protocol

from .scheduler import SendScheduler
from .settlement import SettlementTimer

MAX_ROUNDS = 100


class CatchesUp(Protocol):
    def catch_up(self) -> int:
        """Do all there is to do now; return how much it did."""
        ...


class DueWork:
    def __init__(
        self,
        scheduler: SendScheduler,
        handover: CatchesUp,
        settlement: SettlementTimer,
        read_models: CatchesUp,
        webhooks: CatchesUp | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.handover = handover
        self.settlement = settlement
        self.read_models = read_models
        self.webhooks = webhooks  # the outbox and its dispatcher

    def run(self) -> None:
        """Until nothing more is due: each step's effects can make the next one due."""
        for _ in range(MAX_ROUNDS):
            self.read_models.catch_up()  # the scheduler and expiry read due times from them
            advanced = self.scheduler.run_once()
            handed = self.handover.catch_up()
            self.read_models.catch_up()
            settled = self.settlement.run_once()
            self.read_models.catch_up()
            told = self.webhooks.catch_up() if self.webhooks is not None else 0
            if not advanced and not handed and not settled and not told:
                return

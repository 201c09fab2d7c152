"""Periodic upkeep: forgetting idempotency records and S9 counts past their retention."""

from __future__ import annotations

import logging

from ..adapters.idempotency import IdempotencyStore
from ..adapters.recipient_window import RecipientWindow
from ..commands.ports import Clock

log = logging.getLogger(__name__)


class Housekeeping:
    def __init__(
        self,
        idempotency: IdempotencyStore,
        clock: Clock,
        windows: RecipientWindow | None = None,
    ):
        self.idempotency = idempotency
        self.windows = windows
        self.clock = clock

    def run_once(self) -> int:
        now = self.clock.now()
        purged = self.idempotency.purge()
        if self.windows is not None:
            self.windows.purge(now)
        if purged:
            log.info("forgot %d idempotency records past their retention", purged)
        return purged

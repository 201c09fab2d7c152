"""What every bounded context's eventsourcing application shares: the service clock, an
aggregate cache, and a listener told after each save that stored events (so in-process
followers wake at once)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Recording

from .ports import ChangeListener, Clock


class ContextApplication(Application[UUID]):
    env = {"AGGREGATE_CACHE_MAXSIZE": "10000"}  # noqa: RUF012 - the library's own idiom

    def __init__(
        self, env: dict[str, Any] | None, clock: Clock, on_change: ChangeListener | None = None
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.on_change = on_change

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        """The library's hook after every save that stored events: wake the in-process
        followers (no command has to remember to)."""
        if recordings and self.on_change is not None:
            self.on_change()

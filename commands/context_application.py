"""What every bounded context's eventsourcing application shares: the service clock, an
aggregate cache, reads of an aggregate as stored now that do not queue, and a listener told
after each save that stored events (so in-process followers wake at once)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording

from .ports import ChangeListener, Clock

CURRENT_KEPT = 10_000  # aggregates ``current`` remembers (then it starts again)


class ContextApplication(Application[UUID]):
    env = {"AGGREGATE_CACHE_MAXSIZE": "10000"}  # noqa: RUF012 - the library's own idiom

    def __init__(
        self, env: dict[str, Any] | None, clock: Clock, on_change: ChangeListener | None = None
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.on_change = on_change
        self._current: dict[UUID, Aggregate] = {}

    def current(self, aggregate_id: UUID) -> Aggregate | None:
        """The aggregate as stored now, to read and never to change (callers share it); None
        when there is none.

        Why not ``repository.get``: its fast-forward of a cached aggregate holds a lock per
        aggregate around its query, so sixteen requests reading one account or one template
        wait in line, one query each. Here each request asks, without a lock, whether the
        aggregate has an event past the copy it read last (one indexed query, no events
        decoded), and loads it again only when it has. A read that starts after a save
        always sees it."""
        known = self._current.get(aggregate_id)
        if known is not None and not self.recorder.select_events(
            aggregate_id, gt=known.version, limit=1
        ):
            return known
        try:
            loaded: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if len(self._current) >= CURRENT_KEPT:
            self._current.clear()
        self._current[aggregate_id] = loaded
        return loaded

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        """The library's hook after every save that stored events: wake the in-process
        followers (no command has to remember to)."""
        if recordings and self.on_change is not None:
            self.on_change()

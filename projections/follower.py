"""The log follower: feeds read models from an application's notification log.

SQLite has no ``subscribe()`` in eventsourcing 9.5, so the follower polls
``select_notifications`` (on PostgreSQL too: one mechanism, and the library's table lock means
a reader never skips a gap); ``infra/background.py`` runs it in a loop that in-process writers
wake, so reads trail commands by milliseconds, not by the polling interval. Each batch is one
transaction: tracking rows first (compare-and-set), then the read-model changes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from ..adapters.sql import SqlDatabase
from . import tracking
from .read_model import ReadModel


class LogFollower:
    def __init__(
        self,
        app: Application[Any],
        read_models: Sequence[ReadModel],
        db: SqlDatabase,
        batch_size: int = 500,
        poll_interval: float = 0.5,
    ) -> None:
        assert all(m.application == app.name for m in read_models)
        self.app = app
        self.read_models = list(read_models)
        self.db = db
        self.batch_size = batch_size
        self.poll_interval = poll_interval  # how long an idle loop waits (infra/background.py)

    # -- setup and maintenance ----------------------------------------------------------

    def create_tables(self) -> None:
        with self.db.transaction() as tx:
            for model in self.read_models:
                model.create_tables(tx, self.db.dialect)
                tracking.ensure(tx, model.name, model.application)

    def rebuild(self) -> int:
        """Drop every read model of this follower, recreate it empty, replay the whole log."""
        self.reset()
        return self.catch_up()

    def reset(self) -> None:
        """Drop every read model of this follower and recreate it empty, at position 0."""
        with self.db.transaction() as tx:
            for model in self.read_models:
                model.drop_tables(tx)
                model.create_tables(tx, self.db.dialect)
                tracking.ensure(tx, model.name, model.application)
                tracking.reset(tx, model.name)

    # -- processing ---------------------------------------------------------------------

    def positions(self) -> dict[str, int]:
        with self.db.reading() as tx:
            return {m.name: tracking.position(tx, m.name) for m in self.read_models}

    def head(self) -> int:
        """The newest position in the application's notification log."""
        return self.app.recorder.max_notification_id() or 0

    def process_batch(self) -> int:
        """Apply the next batch; returns how many notifications it read (0: up to date)."""
        start, notifications = self.read_batch()
        return self.apply_batch(start, notifications)

    def read_batch(self) -> tuple[int, Sequence[Notification]]:
        """The notifications after the lowest tracking position, and that position."""
        start = min(self.positions().values(), default=0)
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.batch_size, inclusive_of_start=False
        )
        return start, notifications

    def apply_batch(self, start: int, notifications: Sequence[Notification]) -> int:
        """Apply what ``read_batch`` read, in one transaction, to each read model whose tracking
        row is still within ``[start, last)``; returns how many notifications there were."""
        if not notifications:
            return 0
        last = notifications[-1].id
        events = [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
        try:
            with self.db.transaction() as tx:
                for model in self.read_models:
                    current = tracking.position(tx, model.name)
                    if current >= last:
                        continue  # another follower got there first
                    if current < start:
                        # The row went back (a rebuild reset it) after we read from `start`:
                        # the events between are not in this batch, so leave it for a re-read.
                        continue
                    tracking.advance(tx, model.name, current, last)
                    for position, event in events:
                        if position > current:
                            model.apply(tx, event, position)
        except tracking.StaleTracking:
            return len(notifications)  # another follower did it; read again from there
        return len(notifications)

    def catch_up(self) -> int:
        total = 0
        while True:
            count = self.process_batch()
            if count == 0:
                return total
            total += count

    def wait_until(self, position: int, timeout: float = 10.0) -> bool:
        """Read-your-writes: wait until every read model has applied ``position``."""
        deadline = time.monotonic() + timeout
        while True:
            if min(self.positions().values(), default=0) >= position:
                return True
            if time.monotonic() > deadline:
                return False
            if not self.process_batch():  # do the work here (safe beside other followers)
                time.sleep(0.005)

    def wait_until_current(self, timeout: float = 10.0) -> bool:
        return self.wait_until(self.head(), timeout)

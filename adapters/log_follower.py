"""The one log follower: an application's notification log, read in order and handed, batch by
batch, to one handler. The read models, the send worker's hand-over and the Kafka event
publisher are handlers; so will be the webhook dispatcher and the real carriers.

SQLite has no ``subscribe()`` in eventsourcing 9.5, so the follower polls
``select_notifications`` (on PostgreSQL too: one mechanism, and the library's table lock means
a reader never skips a gap); ``infra/background.py`` runs it in a loop that in-process writers
wake, so a handler trails a command by milliseconds, not by the polling interval.

Each handler keeps its own position (a tracking row) and moves it in the same transaction as
its effect, as far as its effect allows: a read model in the transaction that changes its
tables; the send worker once a send is handed over; the publisher once the broker has
acknowledged. This is the library's ``process_event(event, tracking)`` contract, a batch at a
time. Any number of followers of one handler may run (threads, processes): the tracking row's
compare-and-set makes each event take effect once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

from eventsourcing.application import Application

from ..commands.ports import Notified


class EventHandler(Protocol):
    """What a follower feeds: a name (its tracking row), the event topics it wants (None: all),
    where it stands, and what to do with a batch read from just after ``start``."""

    @property
    def name(self) -> str: ...

    @property
    def topics(self) -> Sequence[str] | None: ...

    def position(self) -> int:
        """The position of the last event it took effect for."""
        ...

    def process(self, start: int, batch: Sequence[Notified]) -> None:
        """Take effect for ``batch`` (read after ``start``), moving its tracking with it; a
        batch another follower applied first is dropped."""
        ...


class LogFollower:
    def __init__(
        self,
        app: Application[Any],
        handler: EventHandler,
        batch_size: int = 500,
        poll_interval: float = 0.5,
    ) -> None:
        self.app = app
        self.handler = handler
        self.batch_size = batch_size
        self.poll_interval = poll_interval  # how long an idle loop waits (infra/background.py)

    @property
    def name(self) -> str:
        return f"{self.app.name}:{self.handler.name}"

    def run_once(self) -> int:
        """Process the next batch; returns how many notifications it read (0: up to date)."""
        start = self.handler.position()
        notifications = self.app.recorder.select_notifications(
            start=start,
            limit=self.batch_size,
            topics=self.handler.topics or (),
            inclusive_of_start=False,
        )
        if not notifications:
            return 0
        batch = [Notified(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
        self.handler.process(start, batch)
        return len(notifications)

    def catch_up(self) -> int:
        """Process until nothing is left; returns how many notifications it read."""
        total = 0
        while count := self.run_once():
            total += count
        return total

    def head(self) -> int:
        """The newest position in the application's notification log."""
        return self.app.recorder.max_notification_id() or 0

    def wait_until(self, position: int, timeout: float = 10.0) -> bool:
        """Read-your-writes: wait (doing the work here, safe beside other followers) until
        the handler has taken effect up to ``position``. With topics, an event of another
        topic at the head is never reached: it counts as reached once nothing is left."""
        deadline = time.monotonic() + timeout
        while True:
            if self.handler.position() >= position:
                return True
            if not self.run_once():
                if self.handler.topics is not None:
                    return True
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.005)
            elif time.monotonic() > deadline:
                return False

    def wait_until_current(self, timeout: float = 10.0) -> bool:
        return self.wait_until(self.head(), timeout)

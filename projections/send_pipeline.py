"""Where sends stand on their way out, as the metrics read it from the ``sends`` table: those
waiting (scheduled, awaiting the provider's review), the send worker's backlog and the oldest
message still awaiting its receipt. Each query reads only the sends in a few statuses
(``sends_status``) or one end of an index (``sends_expiry``), never every send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..adapters.sql import SqlDatabase
from ..domain.sending import UNKNOWN_AFTER, SendStatus
from .read_model import maybe_db_time

WAITING = (SendStatus.SCHEDULED.value, SendStatus.AWAITING_PROVIDER_REVIEW.value)


@dataclass(frozen=True)
class Waiting:
    sends: int
    messages: int


@dataclass(frozen=True)
class Backlog:
    """Messages accepted and due but not handed to the carrier yet, and since when the oldest
    of them has been due (its send's start of submission); None when there are none."""

    messages: int
    oldest_due_at: datetime | None


class SendPipelineQueries:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def waiting(self) -> dict[str, Waiting]:
        """Waiting sends and their messages, by status (every waiting status, 0 if none)."""
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT status, COUNT(*), COALESCE(SUM(total), 0) FROM sends "
                "WHERE status IN (%s, %s) GROUP BY status",
                WAITING,
            )
        found = {str(s): Waiting(int(n), int(m)) for s, n, m in rows}
        return {status: found.get(status, Waiting(0, 0)) for status in WAITING}

    def backlog(self) -> Backlog:
        with self.db.reading() as tx:
            pending, oldest = tx.execute(
                "SELECT COALESCE(SUM(pending), 0), MIN(goes_out_at) FROM sends "
                "WHERE status = %s AND pending > 0",
                (SendStatus.SUBMITTING.value,),
            )[0]
        return Backlog(int(pending), maybe_db_time(oldest))

    def oldest_awaiting_receipt(self) -> datetime | None:
        """When the oldest message still awaiting its receipt was handed over (each send's
        ``next_expiry`` is its oldest such message's hand-over plus the 72 hours, Q8)."""
        with self.db.reading() as tx:
            expiry = tx.execute("SELECT MIN(next_expiry) FROM sends WHERE next_expiry IS NOT NULL")[
                0
            ][0]
        first = maybe_db_time(expiry)
        return first - UNKNOWN_AFTER if first is not None else None

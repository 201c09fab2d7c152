"""The simulated carrier of ``SMS_SIMULATION`` and the embedded default (contract: Simulation).

It decides by the number's last four digits: ``0001`` a ``failed`` receipt; ``0002`` no receipt
ever; ``0003`` refused at submission; anything else ``delivered`` a few simulated seconds after
submission.

Like a real carrier it deduplicates nothing: every hand-over is a new message to a person,
with its own carrier id and its own receipt, so a message handed over twice shows up twice
here (tests count exactly that). What it took is kept in the shared database, so every
process (API, workers, a worker restarted after a crash) talks to the same carrier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from ..commands.ports import OutgoingMessage, Receipt, Submission
from .sql import SqlDatabase

DELIVERY_DELAY = timedelta(seconds=3)
FAILURE_DELAY = timedelta(seconds=5)
REFUSED = "carrier_refused"


class SimulatedCarrier:
    # it keeps no record a worker could consult after a crash: one batch per claim, so a
    # crash resends at most one batch
    batches_per_claim = 1

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def create_tables(self) -> None:
        db = self.db
        ts = "TIMESTAMPTZ" if db.dialect == "postgres" else "TEXT"
        with db.transaction() as tx:
            tx.execute(
                f"""CREATE TABLE IF NOT EXISTS sim_carrier_handovers (
                    carrier_message_id TEXT PRIMARY KEY, message_id TEXT NOT NULL,
                    phone TEXT NOT NULL, text TEXT NOT NULL, error TEXT,
                    receipt_status TEXT, receipt_due {ts}, receipt_sent BOOLEAN NOT NULL,
                    handed_at {ts} NOT NULL)"""
            )
            tx.execute(
                "CREATE INDEX IF NOT EXISTS sim_carrier_due ON sim_carrier_handovers "
                "(receipt_sent, receipt_due)"
            )
            tx.execute(
                "CREATE INDEX IF NOT EXISTS sim_carrier_message ON sim_carrier_handovers "
                "(message_id)"
            )

    def submit(self, messages: Sequence[OutgoingMessage], at: datetime) -> list[Submission]:
        decided = [self._decide(m, at) for m in messages]
        with self.db.transaction() as tx:
            tx.executemany(
                "INSERT INTO sim_carrier_handovers (carrier_message_id, message_id, phone, text, "
                "error, receipt_status, receipt_due, receipt_sent, handed_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [row for _, row in decided],
            )
        return [answer for answer, _ in decided]

    def due_receipts(self, now: datetime) -> list[Receipt]:
        """Receipts whose time has come, each returned once (whichever process asks), oldest
        first."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT carrier_message_id, message_id, receipt_status, receipt_due "
                "FROM sim_carrier_handovers WHERE receipt_sent = %s AND receipt_due <= %s "
                "ORDER BY receipt_due LIMIT 5000",
                (False, self._time(now)),
            )
            tx.executemany(
                "UPDATE sim_carrier_handovers SET receipt_sent = %s WHERE carrier_message_id = %s",
                [(True, r[0]) for r in rows],
            )
        return [Receipt(r[1], r[2], _parse(r[3])) for r in rows]

    def next_due_after(self, now: datetime) -> datetime | None:
        """When the next receipt after ``now`` is due (the simulated clock steps to it)."""
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT MIN(receipt_due) FROM sim_carrier_handovers "
                "WHERE receipt_sent = %s AND receipt_due > %s",
                (False, self._time(now)),
            )
        return _parse(rows[0][0]) if rows and rows[0][0] is not None else None

    # -- what tests and the benchmark count ------------------------------------------------

    @property
    def sent(self) -> int:
        """Distinct messages the carrier has taken (refusals excluded)."""
        return self._count(
            "SELECT COUNT(DISTINCT message_id) FROM sim_carrier_handovers WHERE error IS NULL"
        )

    @property
    def handovers(self) -> int:
        """Every hand-over, a message handed over again counted again."""
        return self._count("SELECT COUNT(*) FROM sim_carrier_handovers")

    def handovers_by_message(self) -> dict[str, int]:
        """How many times each message id was handed over."""
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT message_id, COUNT(*) FROM sim_carrier_handovers GROUP BY message_id"
            )
        return {r[0]: int(r[1]) for r in rows}

    def text_of(self, message_id: str) -> tuple[str, str] | None:
        """(phone, text) of a message the carrier was given."""
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT phone, text FROM sim_carrier_handovers WHERE message_id = %s LIMIT 1",
                (message_id,),
            )
        return (rows[0][0], rows[0][1]) if rows else None

    # -- internals ----------------------------------------------------------------------

    def _decide(
        self, message: OutgoingMessage, at: datetime
    ) -> tuple[Submission, tuple[object, ...]]:
        """The carrier's answer for one message, and the row that remembers it."""
        ending = message.phone[-4:]
        carrier_id = str(uuid4())
        if ending == "0003":
            status, due, error = None, None, REFUSED
        elif ending == "0001":
            status, due, error = "failed", self._time(at + FAILURE_DELAY), None
        elif ending == "0002":
            status, due, error = None, None, None  # never answers
        else:
            status, due, error = "delivered", self._time(at + DELIVERY_DELAY), None
        answer = Submission(message.message_id, error is None,
                            None if error else carrier_id, error)  # fmt: skip
        return answer, (carrier_id, message.message_id, message.phone, message.text, error,
                        status, due, status is None, self._time(at))  # fmt: skip

    def _count(self, sql: str) -> int:
        with self.db.reading() as tx:
            return int(tx.execute(sql)[0][0])

    def _time(self, value: datetime) -> object:
        if self.db.dialect == "postgres":
            return value
        return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

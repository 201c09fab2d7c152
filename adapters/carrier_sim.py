"""The simulated carrier of ``SMS_SIMULATION`` and the embedded default (contract: Simulation).

It decides by the number's last four digits: ``0001`` a ``failed`` receipt; ``0002`` no receipt
ever; ``0003`` refused at submission; anything else ``delivered`` a few simulated seconds after
submission. Like a real carrier it deduplicates on our message id, and it keeps what it took in
the shared database, so every process (API, workers, a worker restarted after a crash) talks to
the same carrier, and tests can count hand-overs across process deaths.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import NAMESPACE_URL, uuid5

from ..commands.ports import OutgoingMessage, Receipt, Submission
from .sql import SqlDatabase, Tx

DELIVERY_DELAY = timedelta(seconds=3)
FAILURE_DELAY = timedelta(seconds=5)


class SimulatedCarrier:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        blob = "TIMESTAMPTZ" if db.dialect == "postgres" else "TEXT"
        with db.transaction() as tx:
            tx.execute(
                f"""CREATE TABLE IF NOT EXISTS sim_carrier_messages (
                    message_id TEXT PRIMARY KEY, phone TEXT NOT NULL, text TEXT NOT NULL,
                    carrier_message_id TEXT, error TEXT, handovers INTEGER NOT NULL,
                    receipt_status TEXT, receipt_due {blob}, receipt_sent BOOLEAN NOT NULL)"""
            )
            tx.execute(
                "CREATE INDEX IF NOT EXISTS sim_carrier_due ON sim_carrier_messages "
                "(receipt_sent, receipt_due)"
            )

    def submit(self, messages: Sequence[OutgoingMessage], at: datetime) -> list[Submission]:
        rows = [self._decide(m, at) for m in messages]
        with self.db.transaction() as tx:
            tx.executemany(
                "INSERT INTO sim_carrier_messages (message_id, phone, text, carrier_message_id, "
                "error, handovers, receipt_status, receipt_due, receipt_sent) "
                "VALUES (%s, %s, %s, %s, %s, 1, %s, %s, %s) ON CONFLICT (message_id) "
                "DO UPDATE SET handovers = sim_carrier_messages.handovers + 1",
                rows,
            )
            first = self._answers(tx, [m.message_id for m in messages])
        return [first[m.message_id] for m in messages]

    def due_receipts(self, now: datetime) -> list[Receipt]:
        """Receipts whose time has come, each returned once (whichever process asks)."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT message_id, receipt_status, receipt_due FROM sim_carrier_messages "
                "WHERE receipt_sent = %s AND receipt_due <= %s ORDER BY receipt_due LIMIT 5000",
                (False, self._time(now)),
            )
            tx.executemany(
                "UPDATE sim_carrier_messages SET receipt_sent = %s WHERE message_id = %s",
                [(True, r[0]) for r in rows],
            )
        return [Receipt(r[0], r[1], _parse(r[2])) for r in rows]

    # -- what tests and the benchmark count ------------------------------------------------

    @property
    def sent(self) -> int:
        """Distinct messages the carrier has taken (each at most once, whatever the retries)."""
        return self._count("SELECT COUNT(*) FROM sim_carrier_messages WHERE error IS NULL")

    @property
    def handovers(self) -> int:
        """Every hand-over, retries of already-taken messages included."""
        return self._count("SELECT COALESCE(SUM(handovers), 0) FROM sim_carrier_messages")

    def text_of(self, message_id: str) -> tuple[str, str] | None:
        """(phone, text) of a message the carrier was given."""
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT phone, text FROM sim_carrier_messages WHERE message_id = %s",
                (message_id,),
            )
        return (rows[0][0], rows[0][1]) if rows else None

    # -- internals ----------------------------------------------------------------------

    def _decide(self, message: OutgoingMessage, at: datetime) -> tuple[object, ...]:
        ending = message.phone[-4:]
        if ending == "0003":
            return (message.message_id, message.phone, message.text, None, "carrier_refused",
                    None, None, True)  # fmt: skip
        carrier_id = str(uuid5(NAMESPACE_URL, f"sim-carrier:{message.message_id}"))
        if ending == "0001":
            status, due = "failed", self._time(at + FAILURE_DELAY)
        elif ending == "0002":
            status, due = None, None  # never answers
        else:
            status, due = "delivered", self._time(at + DELIVERY_DELAY)
        return (message.message_id, message.phone, message.text, carrier_id, None, status, due,
                status is None)  # fmt: skip

    def _answers(self, tx: Tx, ids: list[str]) -> dict[str, Submission]:
        placeholders = ", ".join(["%s"] * len(ids))
        rows = tx.execute(
            "SELECT message_id, carrier_message_id, error FROM sim_carrier_messages "
            f"WHERE message_id IN ({placeholders})",
            ids,
        )
        return {r[0]: Submission(r[0], r[1] is not None, r[1], r[2]) for r in rows}

    def _count(self, sql: str) -> int:
        with self.db.reading() as tx:
            return int(tx.execute(sql)[0][0])

    def _time(self, value: datetime) -> object:
        if self.db.dialect == "postgres":
            return value
        return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

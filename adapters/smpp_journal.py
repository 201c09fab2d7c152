"""What the SMPP carriers took and reported, in the shared database.

Every part of every message an SMSC accepted is a row (``smpp_parts``) with the SMSC's id
for it, written when its ``submit_sm_resp`` arrives; a receipt sets the part's final state.
A receipt can arrive before its ``submit_sm_resp`` (both come down one connection, but the
SMSC may send them in either order): every receipt waits in ``smpp_parked`` until its part is
known, and is never dropped. The carrier writes both in batches (``record``), off the
thread that reads the line. A message is final once every part is: ``failed`` if any part failed,
else ``delivered``; ``due_receipts`` hands each final message to the settlement once.

The rows also make a hand-over honest after a crash: a message whose every part has an SMSC
id reached the SMSC, so a worker taking the batch over answers with those ids instead of
submitting it again (``submitted``). Only the parts in flight without an answer go again:
at least once, bounded by the bind's window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

from ..commands.ports import CarrierReply, Receipt
from .sql import SqlDatabase, Tx

DELIVERED = "delivered"
FAILED = "failed"


@dataclass(frozen=True)
class AcceptedPart:
    message_id: str
    part: int  # 1-based
    parts: int
    carrier_id: str  # the SMSC's message id for this part


class SmppJournal:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def create_tables(self) -> None:
        ts = "TIMESTAMPTZ" if self.db.dialect == "postgres" else "TEXT"
        with self.db.transaction() as tx:
            tx.execute(
                f"""CREATE TABLE IF NOT EXISTS smpp_parts (
                    carrier TEXT NOT NULL, carrier_id TEXT NOT NULL, message_id TEXT NOT NULL,
                    part INTEGER NOT NULL, parts INTEGER NOT NULL, state TEXT,
                    final_at {ts}, reported BOOLEAN NOT NULL,
                    PRIMARY KEY (carrier, carrier_id))"""
            )
            tx.execute("CREATE INDEX IF NOT EXISTS smpp_parts_message ON smpp_parts (message_id)")
            tx.execute("CREATE INDEX IF NOT EXISTS smpp_parts_due ON smpp_parts (reported, state)")
            tx.execute(
                f"""CREATE TABLE IF NOT EXISTS smpp_replies (
                    reply_id TEXT PRIMARY KEY, carrier TEXT NOT NULL, phone TEXT NOT NULL,
                    destination TEXT NOT NULL, extension TEXT NOT NULL, text TEXT NOT NULL,
                    at {ts} NOT NULL,
                    recorded BOOLEAN NOT NULL)"""
            )
            tx.execute(
                f"""CREATE TABLE IF NOT EXISTS smpp_parked (
                    carrier TEXT NOT NULL, carrier_id TEXT NOT NULL, state TEXT NOT NULL,
                    at {ts} NOT NULL, PRIMARY KEY (carrier, carrier_id))"""
            )

    def record(
        self,
        carrier: str,
        accepted: Sequence[AcceptedPart],
        receipts: Sequence[tuple[str, str, datetime]],
    ) -> None:
        """In one transaction: the parts an SMSC took, and final states for parts
        (``(carrier_id, state, at)``). A receipt for a known part sets its state at once (a
        part final already keeps its own: a second receipt changes nothing); one for a part
        not known yet is parked, and taken up when its part is written, here or by a
        concurrent write's successor (``due_receipts`` sweeps too), so none is ever lost.

        Every statement finds its rows by key, so a write costs the same whatever the
        journal holds (a join over all parts made writes grow with the table)."""
        with self.db.transaction() as tx:
            self._insert_parts(tx, carrier, accepted)
            self._take_receipts(tx, carrier, receipts)
            _apply_parked(tx, carrier, [p.carrier_id for p in accepted])

    def _take_receipts(
        self, tx: Tx, carrier: str, receipts: Sequence[tuple[str, str, datetime]]
    ) -> None:
        """Each receipt sets its part's state, or is parked when the part is not known."""
        first: dict[str, tuple[str, object]] = {}  # a part's first receipt in this write wins
        for ident, state, at in receipts:
            first.setdefault(ident, (state, self._time(at)))
        if not first:
            return
        # a statement per receipt, each finding its part by its whole key: one statement for
        # all (unnest) let the planner scan every part of the carrier before the table's
        # first ANALYZE
        tx.executemany(
            "UPDATE smpp_parts SET state = %s, final_at = %s "
            "WHERE carrier = %s AND carrier_id = %s AND state IS NULL",
            [(state, at, carrier, ident) for ident, (state, at) in first.items()],
        )
        tx.executemany(
            "INSERT INTO smpp_parked (carrier, carrier_id, state, at) "
            "SELECT %s, %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM smpp_parts "
            "WHERE carrier = %s AND carrier_id = %s) ON CONFLICT (carrier, carrier_id) "
            "DO NOTHING",
            [(carrier, ident, state, at, carrier, ident) for ident, (state, at) in first.items()],
        )

    def _insert_parts(self, tx: Tx, carrier: str, accepted: Sequence[AcceptedPart]) -> None:
        if not accepted:
            return
        insert = (
            "INSERT INTO smpp_parts (carrier, carrier_id, message_id, part, parts, state, "
            "final_at, reported) "
        )
        if self.db.dialect == "postgres":  # one statement for the whole write
            tx.execute(
                insert + "SELECT %s, i, m, p, n, NULL, NULL, FALSE FROM unnest("
                "%s::text[], %s::text[], %s::int[], %s::int[]) AS u(i, m, p, n) "
                "ON CONFLICT (carrier, carrier_id) DO NOTHING",
                (carrier, [p.carrier_id for p in accepted], [p.message_id for p in accepted],
                 [p.part for p in accepted], [p.parts for p in accepted]),
            )  # fmt: skip
            return
        tx.executemany(
            insert + "VALUES (%s, %s, %s, %s, %s, NULL, NULL, %s) "
            "ON CONFLICT (carrier, carrier_id) DO NOTHING",
            [(carrier, p.carrier_id, p.message_id, p.part, p.parts, False) for p in accepted],
        )

    def accepted(self, carrier: str, part: AcceptedPart) -> None:
        self.record(carrier, [part], [])

    def receipt(self, carrier: str, carrier_id: str, state: str, at: datetime) -> None:
        self.record(carrier, [], [(carrier_id, state, at)])

    def submitted(self, message_ids: Sequence[str]) -> dict[str, str]:
        """The messages among ``message_ids`` whose every part an SMSC took (by a hand-over
        before), each with its first part's SMSC id."""
        if not message_ids:
            return {}
        marks = ", ".join(["%s"] * len(message_ids))
        with self.db.reading() as tx:
            rows = tx.execute(
                f"SELECT message_id, MIN(parts), COUNT(DISTINCT part), MIN(carrier_id) "
                f"FROM smpp_parts WHERE message_id IN ({marks}) GROUP BY message_id",
                list(message_ids),
            )
        return {r[0]: r[3] for r in rows if int(r[2]) >= int(r[1])}

    def due_receipts(self, now: datetime) -> list[Receipt]:
        """Messages every part of which is final, each returned once (whichever process
        asks): ``failed`` if any part failed."""
        with self.db.transaction() as tx:
            _apply_parked(tx)  # receipts parked by writes that raced their parts' writes
            rows = tx.execute(
                "SELECT message_id, MIN(parts), COUNT(DISTINCT part), "
                "SUM(CASE WHEN state = %s THEN 1 ELSE 0 END), MAX(final_at) FROM smpp_parts "
                "WHERE message_id IN (SELECT message_id FROM smpp_parts "
                "WHERE reported = %s AND state IS NOT NULL) "
                "GROUP BY message_id HAVING COUNT(*) = COUNT(state) AND "
                "SUM(CASE WHEN reported THEN 1 ELSE 0 END) = 0 LIMIT 5000",
                (FAILED, False),
            )
            due = [r for r in rows if int(r[2]) >= int(r[1])]
            tx.executemany(
                "UPDATE smpp_parts SET reported = %s WHERE message_id = %s",
                [(True, r[0]) for r in due],
            )
        return [
            Receipt(r[0], FAILED if int(r[3]) else DELIVERED, _parse(r[4]) if r[4] else now)
            for r in due
        ]

    def reply(
        self, carrier: str, source: str, destination: str, text: str, extension: str = ""
    ) -> None:
        """A recipient's reply (MO), kept until the platform recorded it."""
        phone = source.removeprefix("+").removeprefix("86") if len(source) > 11 else source
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO smpp_replies (reply_id, carrier, phone, destination, extension, "
                "text, at, recorded) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (str(uuid4()), carrier, phone, destination, extension, text,
                 self._time(datetime.now(UTC)), False),
            )  # fmt: skip

    def due_replies(self, limit: int = 1000) -> list[CarrierReply]:
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT reply_id, phone, destination, extension, text, at FROM smpp_replies "
                "WHERE recorded = %s ORDER BY at LIMIT %s",
                (False, limit),
            )
        return [CarrierReply(r[0], r[1], r[2], r[3], r[4], _parse(r[5])) for r in rows]

    def replies_recorded(self, reply_ids: Sequence[str]) -> None:
        with self.db.transaction() as tx:
            tx.executemany(
                "UPDATE smpp_replies SET recorded = %s WHERE reply_id = %s",
                [(True, i) for i in reply_ids],
            )

    def parked(self) -> int:
        with self.db.reading() as tx:
            return int(tx.execute("SELECT COUNT(*) FROM smpp_parked")[0][0])

    def _time(self, value: datetime) -> object:
        if self.db.dialect == "postgres":
            return value
        return value.astimezone(UTC).isoformat(timespec="microseconds")


def _apply_parked(tx: Tx, carrier: str | None = None, carrier_ids: Sequence[str] = ()) -> None:
    """Parked receipts whose part is known now: the part takes the state (a part final
    already keeps its own), and the receipt is done. Either those of ``carrier_ids`` (parts
    just written) or, without a carrier, every parked receipt (a sweep)."""
    if carrier is not None:
        if not carrier_ids:
            return
        marks = ", ".join(["%s"] * len(carrier_ids))
        parked = tx.execute(
            f"SELECT carrier, carrier_id, state, at FROM smpp_parked "
            f"WHERE carrier = %s AND carrier_id IN ({marks})",
            [carrier, *carrier_ids],
        )
    else:
        parked = tx.execute("SELECT carrier, carrier_id, state, at FROM smpp_parked LIMIT 5000")
    if not parked:
        return
    tx.executemany(
        "UPDATE smpp_parts SET state = %s, final_at = %s "
        "WHERE carrier = %s AND carrier_id = %s AND state IS NULL",
        [(state, at, who, ident) for who, ident, state, at in parked],
    )
    tx.executemany(
        "DELETE FROM smpp_parked WHERE carrier = %s AND carrier_id = %s AND EXISTS "
        "(SELECT 1 FROM smpp_parts p WHERE p.carrier = %s AND p.carrier_id = %s)",
        [(who, ident, who, ident) for who, ident, _, _ in parked],
    )


def _parse(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

"""An account's per-message records over its whole history, read from the ``messages`` table of
``sends.py`` (joined to ``sends`` for the template), filtered and in one stable order.

The order is ``(created_at, send_id, idx)``: unique (a message id is ``<send id>.<idx>``),
never changed once a row is written, and served by the ``messages_records`` index, so pages and
export chunks are keyset reads (``WHERE (created_at, send_id, idx) > last``), never OFFSET: the
thousandth page costs what the first does, and a row is neither lost nor read twice while
others' statuses move. Each chunk is its own short read transaction, so an export of millions
of rows holds no connection while the client reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters.sql import SqlDatabase
from .read_model import db_time, from_db_time, maybe_db_time

EXPORT_CHUNK = 5000  # rows per read of an export: a few MB at most in memory


@dataclass(frozen=True)
class RecordFilter:
    """Which of an account's messages: created in [start, end), and the optional equalities."""

    account_id: str
    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    send_id: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class RecordKey:
    """A message's place in the records' order (what a cursor carries)."""

    created_at: datetime
    send_id: str
    idx: int


@dataclass(frozen=True, slots=True)
class MessageRecord:
    message_id: str
    send_id: str
    template_id: str
    phone: str
    status: str
    reason: str | None
    units: int
    product: str | None
    carrier_message_id: str | None
    created_at: datetime
    submitted_at: datetime | None
    final_at: datetime | None
    idx: int

    @property
    def key(self) -> RecordKey:
        return RecordKey(self.created_at, self.send_id, self.idx)


RECORD_COLUMNS = (
    "m.message_id, m.send_id, s.template_id, m.phone, m.status, m.reason, m.units, m.product, "
    "m.carrier_message_id, m.created_at, m.submitted_at, m.final_at, m.idx"
)


class MessageRecords:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def page(self, where: RecordFilter, after: RecordKey | None, limit: int) -> list[MessageRecord]:
        """Up to ``limit`` records after ``after`` (from the first without it), in order."""
        conditions, params = self._conditions(where, after)
        sql = (
            f"SELECT {RECORD_COLUMNS} FROM messages m JOIN sends s ON s.send_id = m.send_id "
            f"WHERE {' AND '.join(conditions)} ORDER BY m.created_at, m.send_id, m.idx LIMIT %s"
        )
        with self.db.reading() as tx:
            rows = tx.execute(sql, [*params, limit])
        return [_record(r) for r in rows]

    def chunks(
        self, where: RecordFilter, after: RecordKey | None = None, size: int = EXPORT_CHUNK
    ) -> Iterator[list[MessageRecord]]:
        """Every record after ``after``, ``size`` at a time: one keyset read per chunk."""
        while True:
            chunk = self.page(where, after, size)
            if chunk:
                yield chunk
            if len(chunk) < size:
                return
            after = chunk[-1].key

    def _conditions(
        self, where: RecordFilter, after: RecordKey | None
    ) -> tuple[list[str], list[object]]:
        dialect = self.db.dialect
        conditions: list[str] = ["m.account_id = %s"]
        params: list[object] = [where.account_id]
        if where.start is not None:
            conditions.append("m.created_at >= %s")
            params.append(db_time(where.start, dialect))
        if where.end is not None:
            conditions.append("m.created_at < %s")
            params.append(db_time(where.end, dialect))
        for column, value in (
            ("m.status", where.status),
            ("m.send_id", where.send_id),
            ("m.phone", where.phone),
        ):
            if value is not None:
                conditions.append(f"{column} = %s")
                params.append(value)
        if after is not None:
            conditions.append("(m.created_at, m.send_id, m.idx) > (%s, %s, %s)")
            params += [db_time(after.created_at, dialect), after.send_id, after.idx]
        return conditions, params


def _record(r: tuple[Any, ...]) -> MessageRecord:
    return MessageRecord(
        message_id=r[0], send_id=r[1], template_id=r[2], phone=r[3], status=r[4], reason=r[5],
        units=int(r[6]), product=r[7], carrier_message_id=r[8], created_at=from_db_time(r[9]),
        submitted_at=maybe_db_time(r[10]), final_at=maybe_db_time(r[11]), idx=int(r[12]),
    )  # fmt: skip

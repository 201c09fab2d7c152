"""The rows of ``sends`` and ``messages`` a batch of events touches, held in memory while the
sends read model applies the batch (``sends.py``), then written back set by set.

Per event the read model used to ask the database a dozen times (the send's figures before and
after, the counts of the rows about to move, the recount); per batch it now reads the sends and
messages the batch names in two or three queries, changes them here, and writes each table
once. The figures the other tables keep are differences between what was read and what is
written: ``message_counts`` by each message's (status, reason, product) before and after,
``message_daily`` by each send's figures before and after, so they stay exact however many
events of one send or message a batch holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..adapters.sql import Tx
from ..domain.sending import UNKNOWN_AFTER
from .message_counts import NONE
from .message_daily import BEIJING, FIGURES
from .read_model import CHUNK, db_time, from_db_time, maybe_db_time, select_in
from .receipt_latency import bucket_of


@dataclass(slots=True)
class SendRow:
    """One row of ``sends``; ``text`` and the columns never changed after acceptance are only
    known (and only written) for a send accepted in this batch."""

    send_id: str
    account_id: str
    template_id: str
    product: str | None
    created_at: datetime
    status: str
    units_per_message: int
    units_charged: int
    units_refunded: int
    pending: int
    sending: int
    success: int
    failed: int
    unknown: int
    next_expiry: datetime | None
    units_locked: int
    scheduled_at: datetime | None
    review_due_at: datetime | None
    review_passed: bool
    goes_out_at: datetime | None
    due_at: datetime | None
    cancel_reason: str | None
    type: str = ""
    kind: str | None = None
    total: int = 0
    text: str = ""

    def figures(self) -> tuple[int, ...]:
        """In ``message_daily.FIGURES`` order."""
        return (self.pending, self.sending, self.success, self.failed, self.unknown,
                self.units_charged, self.units_refunded)  # fmt: skip

    def day_key(self) -> tuple[str, str, str, str]:
        """Its row of ``message_daily``: (account, Beijing day, template, product)."""
        day = self.created_at.astimezone(BEIJING).date().isoformat()
        return (self.account_id, day, self.template_id, self.product or NONE)


@dataclass(slots=True)
class MessageRow:
    message_id: str
    send_id: str
    idx: int
    status: str
    units: int
    product: str | None
    reason: str | None
    carrier_message_id: str | None
    submitted_at: datetime | None
    final_at: datetime | None
    planned_units: int | None
    # known (and only written) for a message accepted in this batch
    account_id: str = ""
    phone: str = ""
    day: str = ""
    created_at: datetime | None = None

    def count_key(self) -> tuple[str, str, str]:
        """Its row of ``message_counts``."""
        return (self.status, self.reason or NONE, self.product or NONE)


SEND_COLUMNS = (
    "send_id, account_id, template_id, product, created_at, status, units_per_message, "
    "units_charged, units_refunded, pending, sending, success, failed, unknown, next_expiry, "
    "units_locked, scheduled_at, review_due_at, review_passed, goes_out_at, due_at, cancel_reason"
)
MESSAGE_COLUMNS = (
    "message_id, send_id, idx, status, units, product, reason, carrier_message_id, "
    "submitted_at, final_at, planned_units"
)
SEND_CHANGES = (
    "status, units_charged, units_refunded, pending, sending, success, failed, unknown, "
    "next_expiry, units_locked, scheduled_at, review_due_at, review_passed, goes_out_at, "
    "due_at, cancel_reason"
)


def _send_row(r: Sequence[Any]) -> SendRow:
    return SendRow(
        str(r[0]), str(r[1]), str(r[2]), r[3], from_db_time(r[4]), str(r[5]), int(r[6]),
        int(r[7]), int(r[8]), int(r[9]), int(r[10]), int(r[11]), int(r[12]), int(r[13]),
        maybe_db_time(r[14]), int(r[15]), maybe_db_time(r[16]), maybe_db_time(r[17]),
        bool(r[18]), maybe_db_time(r[19]), maybe_db_time(r[20]), r[21],
    )  # fmt: skip


def _message_row(r: Sequence[Any]) -> MessageRow:
    return MessageRow(
        str(r[0]), str(r[1]), int(r[2]), str(r[3]), int(r[4]), r[5], r[6], r[7],
        maybe_db_time(r[8]), maybe_db_time(r[9]), None if r[10] is None else int(r[10]),
    )  # fmt: skip


@dataclass
class SendRows:
    """What the batch read and changed; ``save`` writes it."""

    sends: dict[str, SendRow] = field(default_factory=dict)
    messages: dict[str, dict[int, MessageRow]] = field(default_factory=dict)
    new_sends: set[str] = field(default_factory=set)
    new_messages: set[str] = field(default_factory=set)  # message ids
    changed_messages: set[str] = field(default_factory=set)
    cancelled: set[str] = field(default_factory=set)  # sends whose messages are gone
    recounted: set[str] = field(default_factory=set)  # sends whose expiry is read again
    latency: dict[int, tuple[int, float]] = field(default_factory=dict)
    # every (status, reason, product) a message left or entered, so that its row exists as
    # it would had the events come one a batch (at 0, if they all left it again)
    counted: set[tuple[str, str, str]] = field(default_factory=set)
    _figures_before: dict[str, tuple[tuple[str, str, str, str], tuple[int, ...]]] = field(
        default_factory=dict
    )
    _counts_before: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    # -- reading ------------------------------------------------------------------------

    def load(self, tx: Tx, send_ids: Iterable[str], whole: Iterable[str],
             message_ids: Iterable[str]) -> None:  # fmt: skip
        """Read the sends ``send_ids``, every message of the sends ``whole`` and the messages
        ``message_ids``."""
        for r in select_in(tx, f"SELECT {SEND_COLUMNS} FROM sends WHERE send_id", send_ids):
            send = _send_row(r)
            self.sends[send.send_id] = send
            self._figures_before[send.send_id] = (send.day_key(), send.figures())
        whole = [s for s in whole if s in self.sends]
        rows = select_in(tx, f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE send_id", whole)
        partly = self.sends.keys() - set(whole)
        wanted = [m for m in message_ids if m.partition(".")[0] in partly]
        rows += select_in(tx, f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE message_id", wanted)
        for r in rows:
            message = _message_row(r)
            of_send = self.messages.setdefault(message.send_id, {})
            if message.idx not in of_send:
                of_send[message.idx] = message
                self._counts_before[message.count_key()] += 1

    # -- changing -----------------------------------------------------------------------

    def add_send(self, send: SendRow, messages: list[MessageRow]) -> None:
        self.sends[send.send_id] = send
        self.new_sends.add(send.send_id)
        self.messages[send.send_id] = {m.idx: m for m in messages}
        self.new_messages.update(m.message_id for m in messages)
        self.counted.update(m.count_key() for m in messages)

    def messages_of(self, send_id: str, indices: Iterable[int]) -> list[MessageRow]:
        """Those of the messages ``indices`` the send has (each once, in order)."""
        of_send = self.messages.get(send_id, {})
        found = (of_send.get(i) for i in dict.fromkeys(indices))
        return [m for m in found if m is not None]

    def moved(self, before: tuple[str, str, str], after: tuple[str, str, str]) -> None:
        if before != after:
            self.counted.update((before, after))

    def changed(self, message: MessageRow) -> None:
        self.changed_messages.add(message.message_id)

    def cancel(self, send_id: str) -> None:
        """The send's messages are deleted (all of them: ``whole`` was read)."""
        self.cancelled.add(send_id)
        for message in self.messages.pop(send_id, {}).values():
            self.counted.add(message.count_key())
            self.new_messages.discard(message.message_id)
            self.changed_messages.discard(message.message_id)

    def observe_latency(self, seconds: float) -> None:
        count, total = self.latency.get(bucket_of(seconds), (0, 0.0))
        self.latency[bucket_of(seconds)] = (count + 1, total + seconds)

    # -- writing ------------------------------------------------------------------------

    def save(self, tx: Tx) -> None:
        self._save_messages(tx)
        self._save_latency(tx)
        self._read_expiries(tx)
        self._save_sends(tx)
        self._save_counts(tx)
        self._save_daily(tx)

    def _save_messages(self, tx: Tx) -> None:
        d = tx.dialect
        gone = [s for s in self.cancelled if s not in self.new_sends]
        if gone:
            for start in range(0, len(gone), CHUNK):
                chunk = gone[start : start + CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                tx.execute(f"DELETE FROM messages WHERE send_id IN ({marks})", chunk)
        rows = self._rows()
        inserted = [rows[m] for m in sorted(self.new_messages)]
        if inserted:
            tx.executemany(
                "INSERT INTO messages (message_id, send_id, idx, account_id, phone, status, "
                "units, product, reason, carrier_message_id, day, created_at, submitted_at, "
                "final_at, planned_units) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (m.message_id, m.send_id, m.idx, m.account_id, m.phone, m.status, m.units,
                     m.product, m.reason, m.carrier_message_id, m.day,
                     _at(m.created_at, d), _at(m.submitted_at, d), _at(m.final_at, d),
                     m.planned_units)
                    for m in inserted
                ],
            )  # fmt: skip
        updated = [rows[m] for m in sorted(self.changed_messages - self.new_messages)]
        if updated:
            tx.executemany(
                "UPDATE messages SET status = %s, units = %s, reason = %s, "
                "carrier_message_id = %s, submitted_at = %s, final_at = %s "
                "WHERE message_id = %s",
                [
                    (m.status, m.units, m.reason, m.carrier_message_id, _at(m.submitted_at, d),
                     _at(m.final_at, d), m.message_id)
                    for m in updated
                ],
            )  # fmt: skip

    def _rows(self) -> dict[str, MessageRow]:
        return {m.message_id: m for of_send in self.messages.values() for m in of_send.values()}

    def _save_latency(self, tx: Tx) -> None:
        if self.latency:
            tx.executemany(
                "INSERT INTO receipt_latency (bucket, count, seconds) VALUES (%s, %s, %s) "
                "ON CONFLICT (bucket) DO UPDATE SET count = receipt_latency.count + "
                "excluded.count, seconds = receipt_latency.seconds + excluded.seconds",
                [(b, n, s) for b, (n, s) in sorted(self.latency.items())],
            )

    def _read_expiries(self, tx: Tx) -> None:
        """A recounted send expires 72 hours after its oldest message still with the carrier
        (Q8): read from the messages just written."""
        recounted = [s for s in self.recounted if s not in self.cancelled]
        oldest = {
            str(send_id): maybe_db_time(at)
            for send_id, at in select_in(
                tx,
                "SELECT send_id, MIN(submitted_at) FROM messages WHERE status = 'sending' "
                "AND send_id",
                recounted,
                "GROUP BY send_id",
            )
        }
        for send_id in recounted:
            at = oldest.get(send_id)
            self.sends[send_id].next_expiry = at + UNKNOWN_AFTER if at else None

    def _save_sends(self, tx: Tx) -> None:
        d = tx.dialect
        inserted = [self.sends[s] for s in sorted(self.new_sends)]
        if inserted:
            tx.executemany(
                "INSERT INTO sends (send_id, account_id, template_id, type, kind, product, "
                f"total, text, created_at, {SEND_CHANGES}, units_per_message) VALUES "
                f"({', '.join(['%s'] * 26)})",
                [(s.send_id, s.account_id, s.template_id, s.type, s.kind, s.product, s.total,
                  s.text, _at(s.created_at, d), *_changes(s, d), s.units_per_message)
                 for s in inserted],
            )  # fmt: skip
        updated = [s for s in self.sends.values() if s.send_id not in self.new_sends]
        if updated:
            sets = ", ".join(f"{c.strip()} = %s" for c in SEND_CHANGES.split(","))
            tx.executemany(
                f"UPDATE sends SET {sets} WHERE send_id = %s",
                [(*_changes(s, d), s.send_id) for s in sorted(updated, key=_by_id)],
            )

    def _save_counts(self, tx: Tx) -> None:
        changes = Counter(
            m.count_key() for of_send in self.messages.values() for m in of_send.values()
        )
        changes.subtract(self._counts_before)
        keys = sorted({k for k, n in changes.items() if n} | self.counted)
        moved = [(*key, changes[key]) for key in keys]
        if moved:
            tx.executemany(
                "INSERT INTO message_counts (status, reason, product, count) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (status, reason, product) "
                "DO UPDATE SET count = message_counts.count + excluded.count",
                moved,
            )

    def _save_daily(self, tx: Tx) -> None:
        deltas: dict[tuple[str, str, str, str], list[int]] = {}
        for send in self.sends.values():
            for key, figures, sign in self._figure_changes(send):
                sums = deltas.setdefault(key, [0] * len(FIGURES))
                for i, figure in enumerate(figures):
                    sums[i] += sign * figure
        # a new send's row is there even if the batch also cancelled it, as one event a batch
        new = {self.sends[s].day_key() for s in self.new_sends}
        changed = [(*k, *sums) for k, sums in sorted(deltas.items()) if any(sums) or k in new]
        if changed:
            updates = ", ".join(f"{f} = message_daily.{f} + excluded.{f}" for f in FIGURES)
            tx.executemany(
                f"INSERT INTO message_daily (account_id, day, template_id, product, "
                f"{', '.join(FIGURES)}) VALUES ({', '.join(['%s'] * (4 + len(FIGURES)))}) "
                f"ON CONFLICT (account_id, day, template_id, product) DO UPDATE SET {updates}",
                changed,
            )

    def _figure_changes(
        self, send: SendRow
    ) -> list[tuple[tuple[str, str, str, str], tuple[int, ...], int]]:
        before = self._figures_before.get(send.send_id)
        changes = [(send.day_key(), send.figures(), 1)]
        return [*changes, (before[0], before[1], -1)] if before else changes


def _at(value: datetime | None, dialect: str) -> Any:
    return None if value is None else db_time(value, dialect)


def _changes(s: SendRow, d: str) -> tuple[Any, ...]:
    """The values of ``SEND_CHANGES``, in its order."""
    return (
        s.status, s.units_charged, s.units_refunded, s.pending, s.sending, s.success, s.failed,
        s.unknown, _at(s.next_expiry, d), s.units_locked, _at(s.scheduled_at, d),
        _at(s.review_due_at, d), int(s.review_passed), _at(s.goes_out_at, d), _at(s.due_at, d),
        s.cancel_reason,
    )  # fmt: skip


def _by_id(send: SendRow) -> str:
    return send.send_id

"""Send and message read models: send status with counts, per-message status (queried in
``send_queries.py``).

``messages`` has one row per recipient. A batch of events is applied to the rows it names,
read into memory at once (``send_rows.py``): each message's change of status moves its send's
counts and refunded units with it, so the counts are those of the rows they count, and each
table is written once per batch instead of a dozen times per event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..adapters.sql import Tx
from ..commands.ports import Notified
from ..domain.sending import (
    OPTED_OUT,
    Send,
    message_id,
    waiting_state,
)
from . import message_counts, message_daily, receipt_latency
from .read_model import add_column, timestamp_type
from .send_rows import MessageRow, SendRow, SendRows

BEIJING = ZoneInfo("Asia/Shanghai")


class SendsReadModel:
    name = "sends"
    application = "quota"

    def create_tables(self, tx: Tx, dialect: str) -> None:
        ts = timestamp_type(dialect)
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS sends (
                send_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, template_id TEXT NOT NULL,
                type TEXT NOT NULL, kind TEXT, product TEXT, status TEXT NOT NULL,
                total INTEGER NOT NULL, units_per_message INTEGER NOT NULL,
                units_charged INTEGER NOT NULL, units_refunded INTEGER NOT NULL,
                pending INTEGER NOT NULL, sending INTEGER NOT NULL, success INTEGER NOT NULL,
                failed INTEGER NOT NULL, unknown INTEGER NOT NULL, text TEXT NOT NULL,
                created_at {ts} NOT NULL, next_expiry {ts},
                units_locked INTEGER NOT NULL DEFAULT 0, scheduled_at {ts}, review_due_at {ts},
                review_passed INTEGER NOT NULL DEFAULT 0, goes_out_at {ts}, due_at {ts},
                cancel_reason TEXT)"""
        )
        tx.execute("CREATE INDEX IF NOT EXISTS sends_account ON sends (account_id, created_at)")
        tx.execute("CREATE INDEX IF NOT EXISTS sends_expiry ON sends (next_expiry)")
        tx.execute("CREATE INDEX IF NOT EXISTS sends_due ON sends (due_at)")
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS messages (
                message_id TEXT PRIMARY KEY, send_id TEXT NOT NULL, idx INTEGER NOT NULL,
                account_id TEXT NOT NULL, phone TEXT NOT NULL, status TEXT NOT NULL,
                units INTEGER NOT NULL, product TEXT, reason TEXT, carrier_message_id TEXT,
                day TEXT NOT NULL, created_at {ts} NOT NULL, submitted_at {ts}, final_at {ts},
                planned_units INTEGER)"""
        )
        # added with per-recipient pricing: what the message costs once charged (Q6)
        add_column(tx, "messages", "planned_units", "INTEGER")
        tx.execute("CREATE INDEX IF NOT EXISTS messages_send ON messages (send_id, status, idx)")
        tx.execute(
            "CREATE INDEX IF NOT EXISTS messages_account ON messages (account_id, day, product)"
        )
        tx.execute("CREATE INDEX IF NOT EXISTS messages_phone ON messages (phone, submitted_at)")
        # the metrics: sends waiting or being handed over, without reading the others
        tx.execute("CREATE INDEX IF NOT EXISTS sends_status ON sends (status)")
        message_counts.create_table(tx)
        message_daily.create_table(tx)
        receipt_latency.create_table(tx)
        # the records' keyset order (message_records.py): pages and exports, never OFFSET
        tx.execute(
            "CREATE INDEX IF NOT EXISTS messages_records "
            "ON messages (account_id, created_at, send_id, idx)"
        )

    def drop_tables(self, tx: Tx) -> None:
        message_counts.drop_table(tx)
        message_daily.drop_table(tx)
        receipt_latency.drop_table(tx)
        tx.execute("DROP TABLE IF EXISTS messages")
        tx.execute("DROP TABLE IF EXISTS sends")

    def apply_batch(self, tx: Tx, batch: Sequence[Notified]) -> None:
        """Read the rows the batch names, apply its events to them in order, write them."""
        events = [n.event for n in batch if isinstance(n.event, APPLIED)]
        if not events:
            return
        rows = SendRows()
        rows.load(tx, *_wanted(events))
        for event in events:
            send_id = str(event.originator_id)
            if isinstance(event, Send.Accepted):
                self._accepted(rows, event)
            elif send_id in rows.sends:
                self._apply(rows, rows.sends[send_id], event)
        rows.save(tx)

    def _apply(self, rows: SendRows, send: SendRow, event: Any) -> None:
        at: datetime = event.timestamp
        if isinstance(event, Send.Rescheduled):
            send.scheduled_at = event.scheduled_at
            _waiting(send)
            return
        if isinstance(event, Send.ProviderReviewPassed):
            send.review_passed = True
            _waiting(send)
            return
        if isinstance(event, Send.Cancelled):
            send.status, send.cancel_reason, send.units_locked = "cancelled", event.reason, 0
            send.pending, send.due_at, send.goes_out_at = 0, None, None
            rows.cancel(send.send_id)
            return
        if isinstance(event, Send.SubmissionStarted):
            self._started(rows, send, event, at)
        elif isinstance(event, Send.BatchSubmitted):
            for index, carrier_id in event.sent:
                for m in rows.messages_of(send.send_id, [index]):
                    m.carrier_message_id = carrier_id
                    rows.changed(m)
            sent = [i for i, _ in event.sent]
            _move(rows, send, sent, "sending", at, only_from=("pending",), submitted=True)
            for index, reason in event.failed:
                for m in rows.messages_of(send.send_id, [index]):
                    if m.status == "pending":  # refused by the carrier at hand-over
                        _set(rows, send, m, "failed", reason)
                        m.submitted_at = m.final_at = at
                        rows.changed(m)
        elif isinstance(event, Send.ReceiptsRecorded):
            _observe_latency(rows, send, [*event.delivered, *event.failed], at)
            _move(rows, send, event.delivered, "success", at)
            _move(rows, send, event.failed, "failed", at, reason="delivery_failed")
        elif isinstance(event, Send.MessagesExpired):
            _move(rows, send, event.indices, "unknown", at, reason="no_receipt_in_72h")
        # the send's status follows its messages' (its expiry is read once they are written)
        send.status = "submitting" if send.pending else "submitted" if send.sending else "completed"
        rows.recounted.add(send.send_id)

    def _accepted(self, rows: SendRows, event: Send.Accepted) -> None:
        send_id = str(event.originator_id)
        each = _units_each(event)
        units = sum(each)
        waits = event.scheduled_at is not None or event.review_due_at is not None
        at = event.timestamp
        send = SendRow(
            send_id, event.account_id, event.template_id, event.product, at, "submitting",
            event.units_per_message, 0 if waits else units, 0, len(event.recipients), 0, 0, 0,
            0, None, units if waits else 0, event.scheduled_at, event.review_due_at, False, at,
            None, None, event.type, event.kind, len(event.recipients), event.text,
        )  # fmt: skip
        if waits:
            _waiting(send)
        day = at.astimezone(BEIJING).date().isoformat()
        messages = [
            MessageRow(message_id(event.originator_id, i), send_id, i, "pending",
                       0 if waits else each[i], event.product, None, None, None, None, each[i],
                       event.account_id, phone, day, at)
            for i, phone in enumerate(event.recipients)
        ]  # fmt: skip
        rows.add_send(send, messages)

    def _started(
        self, rows: SendRows, send: SendRow, event: Send.SubmissionStarted, at: datetime
    ) -> None:
        """The lock became a charge: every message costs its units but the skipped ones,
        which fail at once (opted out since acceptance) and cost nothing."""
        messages = list(rows.messages.get(send.send_id, {}).values())  # all of them: read whole
        skipped = set(event.skipped)
        for m in messages:
            m.units = send.units_per_message if m.planned_units is None else m.planned_units
            if m.idx in skipped:
                _set(rows, send, m, "failed", OPTED_OUT)
                m.units, m.submitted_at, m.final_at = 0, at, at
            rows.changed(m)
        send.status, send.units_locked, send.due_at, send.goes_out_at = "submitting", 0, None, at
        send.units_charged = sum(m.units for m in messages)
        send.units_refunded = sum(m.units for m in messages if m.status == "failed")


APPLIED = (
    Send.Accepted, Send.Rescheduled, Send.ProviderReviewPassed, Send.Cancelled,
    Send.SubmissionStarted, Send.BatchSubmitted, Send.ReceiptsRecorded, Send.MessagesExpired,
)  # fmt: skip
WHOLE = (Send.Cancelled, Send.SubmissionStarted)  # events about every message of their send


def _wanted(events: list[Any]) -> tuple[set[str], set[str], list[str]]:
    """The sends a batch names but does not accept, those of them whose every message it
    changes, and the other messages it names."""
    accepted = {str(e.originator_id) for e in events if isinstance(e, Send.Accepted)}
    sends, whole, messages = set(), set(), []
    for e in events:
        send_id = str(e.originator_id)
        if send_id in accepted:
            continue
        sends.add(send_id)
        if isinstance(e, WHOLE):
            whole.add(send_id)
        for index in _indices(e):
            messages.append(message_id(e.originator_id, index))
    return sends, whole, messages


def _indices(event: Any) -> list[int]:
    if isinstance(event, Send.BatchSubmitted):
        return [i for i, _ in event.sent] + [i for i, _ in event.failed]
    if isinstance(event, Send.ReceiptsRecorded):
        return [*event.delivered, *event.failed]
    if isinstance(event, Send.MessagesExpired):
        return list(event.indices)
    return []


def _waiting(send: SendRow) -> None:
    """Status, due time and expected time of a send still waiting (S6, S8)."""
    state = waiting_state(send.created_at, send.scheduled_at, send.review_due_at,
                          send.review_passed)  # fmt: skip
    send.status, send.due_at, send.goes_out_at = state.status.value, state.due_at, state.goes_out_at


def _move(
    rows: SendRows,
    send: SendRow,
    indices: list[int],
    status: str,
    at: datetime,
    only_from: tuple[str, ...] = ("pending", "sending"),
    submitted: bool = False,
    reason: str | None = None,
) -> None:
    """The send's messages ``indices`` still in ``only_from`` take ``status`` (and
    ``reason``, or keep theirs), stamped ``at``."""
    for m in rows.messages_of(send.send_id, indices):
        if m.status not in only_from:
            continue
        _set(rows, send, m, status, reason or m.reason)
        if submitted:
            m.submitted_at = at
        if status != "sending":
            m.final_at = at
        rows.changed(m)


def _set(rows: SendRows, send: SendRow, m: MessageRow, status: str, reason: str | None) -> None:
    """One message changes status: its send's counts and refunded units follow."""
    before = m.count_key()
    _count(send, m, -1)
    m.status, m.reason = status, reason
    _count(send, m, 1)
    rows.moved(before, m.count_key())


def _count(send: SendRow, m: MessageRow, sign: int) -> None:
    setattr(send, m.status, getattr(send, m.status) + sign)
    if m.status == "failed":
        send.units_refunded += sign * m.units


def _observe_latency(rows: SendRows, send: SendRow, indices: list[int], at: datetime) -> None:
    """Count the receipts of those of ``indices`` still awaiting one, from their hand-over."""
    for m in rows.messages_of(send.send_id, indices):
        if m.status == "sending" and m.submitted_at is not None:
            rows.observe_latency(max((at - m.submitted_at).total_seconds(), 0.0))


def _units_each(event: Send.Accepted) -> list[int]:
    """What each message of the send costs (Q6): priced one by one, or all alike."""
    if event.unit_counts is not None:
        return [int(u) for u in event.unit_counts]
    return [event.units_per_message] * len(event.recipients)

"""Send and message read models: send status with counts, per-message status (queried in
``send_queries.py``).

``messages`` has one row per recipient (written in one statement per event); after each event
the send's counts are recounted from its rows (an indexed GROUP BY), so they never drift from
the messages they count.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from ..adapters.sql import Tx
from ..domain.sending import (
    OPTED_OUT,
    UNKNOWN_AFTER,
    Send,
    message_id,
    waiting_state,
)
from . import message_counts, message_daily, receipt_latency
from .message_counts import MessageMoves
from .message_daily import SendFigures
from .read_model import add_column, db_time, from_db_time, maybe_db_time, timestamp_type
from .send_queries import STATUSES

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

    def apply(self, tx: Tx, event: Any, position: int) -> None:
        send_id = str(event.originator_id)
        at = db_time(event.timestamp, tx.dialect)
        moves = MessageMoves()  # the message counts' changes, saved once the rows changed
        before = SendFigures.of(tx, send_id)
        self._apply(tx, event, send_id, at, moves)
        moves.save(tx)
        SendFigures.change(tx, before, SendFigures.of(tx, send_id))

    def _apply(self, tx: Tx, event: Any, send_id: str, at: object, moves: MessageMoves) -> None:
        if isinstance(event, Send.Accepted):
            self._accepted(tx, event, at)
            moves.added("pending", event.product, len(event.recipients))
            return
        if isinstance(event, Send.Rescheduled):
            tx.execute(
                "UPDATE sends SET scheduled_at = %s WHERE send_id = %s",
                (db_time(event.scheduled_at, tx.dialect), send_id),
            )
            self._waiting(tx, send_id)
            return
        if isinstance(event, Send.ProviderReviewPassed):
            tx.execute("UPDATE sends SET review_passed = 1 WHERE send_id = %s", (send_id,))
            self._waiting(tx, send_id)
            return
        if isinstance(event, Send.Cancelled):
            tx.execute(
                "UPDATE sends SET status = 'cancelled', cancel_reason = %s, units_locked = 0, "
                "pending = 0, due_at = NULL, goes_out_at = NULL WHERE send_id = %s",
                (event.reason, send_id),
            )
            moves.leaving(tx, "send_id = %s", (send_id,))
            tx.execute("DELETE FROM messages WHERE send_id = %s", (send_id,))
            return
        if isinstance(event, Send.SubmissionStarted):
            self._started(tx, event, at, moves)
        elif isinstance(event, Send.BatchSubmitted):
            self._messages(tx, send_id, [i for i, _ in event.sent], "sending", at, moves,
                           only_from=("pending",), submitted=True)  # fmt: skip
            for index, carrier_id in event.sent:
                tx.execute(
                    "UPDATE messages SET carrier_message_id = %s WHERE message_id = %s",
                    (carrier_id, message_id(event.originator_id, index)),
                )
            for index, reason in event.failed:
                failing = message_id(event.originator_id, index)
                moves.moving(tx, "message_id = %s AND status = 'pending'", (failing,), "failed",
                             reason)  # fmt: skip
                tx.execute(
                    "UPDATE messages SET status = 'failed', reason = %s, submitted_at = %s, "
                    "final_at = %s WHERE message_id = %s AND status = 'pending'",
                    (reason, at, at, message_id(event.originator_id, index)),
                )
        elif isinstance(event, Send.ReceiptsRecorded):
            receipt_latency.observe(tx, send_id, [*event.delivered, *event.failed], at)
            self._messages(tx, send_id, event.delivered, "success", at, moves)
            self._messages(tx, send_id, event.failed, "failed", at, moves,
                           reason="delivery_failed")  # fmt: skip
        elif isinstance(event, Send.MessagesExpired):
            self._messages(tx, send_id, event.indices, "unknown", at, moves,
                           reason="no_receipt_in_72h")  # fmt: skip
        else:
            return
        self._recount(tx, send_id)

    def _accepted(self, tx: Tx, event: Send.Accepted, at: object) -> None:
        send_id = str(event.originator_id)
        total = len(event.recipients)
        each = _units_each(event)
        units = sum(each)
        waits = event.scheduled_at is not None or event.review_due_at is not None
        scheduled, review = (
            db_time(t, tx.dialect) if t else None for t in (event.scheduled_at, event.review_due_at)
        )
        tx.execute(
            "INSERT INTO sends (send_id, account_id, template_id, type, kind, product, status, "
            "total, units_per_message, units_charged, units_refunded, pending, sending, "
            "success, failed, unknown, text, created_at, next_expiry, units_locked, "
            "scheduled_at, review_due_at, goes_out_at) VALUES "
            "(%s, %s, %s, %s, %s, %s, 'submitting', %s, %s, %s, 0, %s, 0, 0, 0, 0, %s, %s, NULL, "
            "%s, %s, %s, %s)",
            (
                send_id, event.account_id, event.template_id, event.type, event.kind,
                event.product, total, event.units_per_message, 0 if waits else units, total,
                event.text, at, units if waits else 0, scheduled, review, at,
            ),
        )  # fmt: skip
        if waits:
            self._waiting(tx, send_id)
        day = event.timestamp.astimezone(BEIJING).date().isoformat()
        tx.executemany(
            "INSERT INTO messages (message_id, send_id, idx, account_id, phone, status, units, "
            "product, day, created_at, planned_units) "
            "VALUES (%s, %s, %s, %s, %s, 'pending', %s, %s, %s, %s, %s)",
            [
                (
                    message_id(event.originator_id, i), send_id, i, event.account_id, phone,
                    0 if waits else each[i], event.product, day, at, each[i],
                )
                for i, phone in enumerate(event.recipients)
            ],
        )  # fmt: skip

    def _waiting(self, tx: Tx, send_id: str) -> None:
        """Status, due time and expected time of a send still waiting (S6, S8)."""
        scheduled, review, passed, created = tx.execute(
            "SELECT scheduled_at, review_due_at, review_passed, created_at FROM sends "
            "WHERE send_id = %s",
            (send_id,),
        )[0]
        state = waiting_state(
            from_db_time(created), maybe_db_time(scheduled), maybe_db_time(review), bool(passed)
        )
        tx.execute(
            "UPDATE sends SET status = %s, due_at = %s, goes_out_at = %s WHERE send_id = %s",
            (
                state.status.value,
                db_time(state.due_at, tx.dialect),
                db_time(state.goes_out_at, tx.dialect),
                send_id,
            ),
        )

    def _started(
        self, tx: Tx, event: Send.SubmissionStarted, at: object, moves: MessageMoves
    ) -> None:
        """The lock became a charge: every message costs its units but the skipped ones,
        which fail at once (opted out since acceptance) and cost nothing."""
        send_id = str(event.originator_id)
        tx.execute(
            "UPDATE messages SET units = COALESCE(planned_units, (SELECT units_per_message "
            "FROM sends WHERE send_id = %s)) WHERE send_id = %s",
            (send_id, send_id),
        )
        if event.skipped:
            marks = ", ".join(["%s"] * len(event.skipped))
            moves.moving(tx, f"send_id = %s AND idx IN ({marks})", (send_id, *event.skipped),
                         "failed", OPTED_OUT)  # fmt: skip
            tx.execute(
                "UPDATE messages SET status = 'failed', reason = %s, units = 0, "
                f"submitted_at = %s, final_at = %s WHERE send_id = %s AND idx IN ({marks})",
                (OPTED_OUT, at, at, send_id, *event.skipped),
            )
        tx.execute(
            "UPDATE sends SET status = 'submitting', units_locked = 0, due_at = NULL, "
            "goes_out_at = %s, units_charged = (SELECT COALESCE(SUM(units), 0) FROM messages "
            "WHERE send_id = %s) WHERE send_id = %s",
            (at, send_id, send_id),
        )

    def _messages(
        self,
        tx: Tx,
        send_id: str,
        indices: list[int],
        status: str,
        at: object,
        moves: MessageMoves,
        only_from: tuple[str, ...] = ("pending", "sending"),
        submitted: bool = False,
        reason: str | None = None,
    ) -> None:
        if not indices:
            return
        stamp = "submitted_at = %s" if submitted else "final_at = %s"
        placeholders = ", ".join(["%s"] * len(indices))
        states = ", ".join(["%s"] * len(only_from))
        moves.moving(tx, f"send_id = %s AND status IN ({states}) AND idx IN ({placeholders})",
                     (send_id, *only_from, *indices), status, reason)  # fmt: skip
        tx.execute(
            f"UPDATE messages SET status = %s, reason = COALESCE(%s, reason), {stamp} "
            f"WHERE send_id = %s AND status IN ({states}) AND idx IN ({placeholders})",
            (status, reason, at, send_id, *only_from, *indices),
        )

    def _recount(self, tx: Tx, send_id: str) -> None:
        """The send's figures recounted from its messages, in one read: by status, the count,
        the units (those of failed messages are refunded) and the oldest hand-over (that of
        the oldest message still with the carrier sets when it expires, Q8)."""
        counts = dict.fromkeys(STATUSES, 0)
        refunded, oldest = 0, None
        for status, count, units, submitted in tx.execute(
            "SELECT status, COUNT(*), COALESCE(SUM(units), 0), MIN(submitted_at) FROM messages "
            "WHERE send_id = %s GROUP BY status",
            (send_id,),
        ):
            counts[status] = int(count)
            refunded = int(units) if status == "failed" else refunded
            oldest = submitted if status == "sending" else oldest
        expiry = db_time(from_db_time(oldest) + UNKNOWN_AFTER, tx.dialect) if oldest else None
        status = (
            "submitting" if counts["pending"] else "submitted" if counts["sending"] else "completed"
        )
        tx.execute(
            "UPDATE sends SET status = %s, pending = %s, sending = %s, success = %s, "
            "failed = %s, unknown = %s, units_refunded = %s, next_expiry = %s "
            "WHERE send_id = %s",
            (
                status, counts["pending"], counts["sending"], counts["success"],
                counts["failed"], counts["unknown"], int(refunded), expiry, send_id,
            ),
        )  # fmt: skip


def _units_each(event: Send.Accepted) -> list[int]:
    """What each message of the send costs (Q6): priced one by one, or all alike."""
    if event.unit_counts is not None:
        return [int(u) for u in event.unit_counts]
    return [event.units_per_message] * len(event.recipients)

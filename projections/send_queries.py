"""Reading the sends read model: a send, an account's sends, a send's messages, one message,
the dashboard, and what the scheduler and the settlement timer are next due to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters.sql import SqlDatabase
from ..domain.sending import MessageStatus
from . import message_daily
from .read_model import db_time, from_db_time, maybe_db_time

STATUSES = [s.value for s in MessageStatus]


@dataclass(frozen=True)
class SendRow:
    send_id: str
    account_id: str
    template_id: str
    type: str
    kind: str | None
    product: str | None
    status: str
    total: int
    units_per_message: int
    units_charged: int
    units_refunded: int
    counts: dict[str, int]
    text: str
    created_at: datetime
    units_locked: int = 0
    scheduled_at: datetime | None = None
    review_due_at: datetime | None = None
    goes_out_at: datetime | None = None
    cancel_reason: str | None = None


@dataclass(frozen=True)
class Dashboard:
    """An account's delivery figures: messages by status, by day and by product; units."""

    by_status: dict[str, int]
    by_day: list[dict[str, Any]]
    by_product: list[dict[str, Any]]
    success_rate: float | None  # success / (success + failed + unknown)
    units_charged: int
    units_refunded: int  # the units of failed messages (each refunded, Q7)


@dataclass(frozen=True)
class MessageRow:
    message_id: str
    send_id: str
    phone: str
    status: str
    units: int
    product: str | None
    reason: str | None
    carrier_message_id: str | None
    created_at: datetime
    submitted_at: datetime | None
    final_at: datetime | None


SEND_COLUMNS = (
    "send_id, account_id, template_id, type, kind, product, status, total, units_per_message, "
    "units_charged, units_refunded, pending, sending, success, failed, unknown, text, created_at, "
    "units_locked, scheduled_at, review_due_at, goes_out_at, cancel_reason"
)
MESSAGE_COLUMNS = (
    "message_id, send_id, phone, status, units, product, reason, carrier_message_id, "
    "created_at, submitted_at, final_at"
)


class SendQueries:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def send(self, send_id: str) -> SendRow | None:
        rows = self._read(f"SELECT {SEND_COLUMNS} FROM sends WHERE send_id = %s", [send_id])
        return _send_row(rows[0]) if rows else None

    def for_account(
        self, account_id: str, status: str | None, limit: int, offset: int
    ) -> list[SendRow]:
        sql = f"SELECT {SEND_COLUMNS} FROM sends WHERE account_id = %s"
        params: list[object] = [account_id]
        if status:
            sql += " AND status = %s"
            params.append(status)
        sql += " ORDER BY created_at DESC, send_id LIMIT %s OFFSET %s"
        return [_send_row(r) for r in self._read(sql, [*params, limit, offset])]

    def messages(
        self, send_id: str, status: str | None, limit: int, after: int
    ) -> list[tuple[int, MessageRow]]:
        sql = f"SELECT idx, {MESSAGE_COLUMNS} FROM messages WHERE send_id = %s AND idx > %s"
        params: list[object] = [send_id, after]
        if status:
            sql += " AND status = %s"
            params.append(status)
        sql += " ORDER BY idx LIMIT %s"
        return [(int(r[0]), _message_row(r[1:])) for r in self._read(sql, [*params, limit])]

    def message(self, ident: str) -> MessageRow | None:
        rows = self._read(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE message_id = %s", [ident])
        return _message_row(rows[0]) if rows else None

    def due_for_expiry(self, now: datetime, limit: int = 100) -> list[str]:
        rows = self._read(
            "SELECT send_id FROM sends WHERE next_expiry IS NOT NULL AND next_expiry <= %s "
            "ORDER BY next_expiry LIMIT %s",
            [db_time(now, self.db.dialect), limit],
        )
        return [r[0] for r in rows]

    def due_sends(self, now: datetime, limit: int = 100) -> list[str]:
        """Waiting sends with something due by ``now`` (a review to pass, a time come)."""
        rows = self._read(
            "SELECT send_id FROM sends WHERE due_at IS NOT NULL AND due_at <= %s "
            "ORDER BY due_at LIMIT %s",
            [db_time(now, self.db.dialect), limit],
        )
        return [r[0] for r in rows]

    def next_send_due_after(self, now: datetime) -> datetime | None:
        """When the next waiting send after ``now`` has something due (clock stepping)."""
        return self._first("SELECT MIN(due_at) FROM sends WHERE due_at > %s", now)

    def next_expiry_after(self, now: datetime) -> datetime | None:
        """When the next message after ``now`` becomes unknown (Q8; clock stepping)."""
        return self._first("SELECT MIN(next_expiry) FROM sends WHERE next_expiry > %s", now)

    def _first(self, sql: str, now: datetime) -> datetime | None:
        value = self._read(sql, [db_time(now, self.db.dialect)])[0][0]
        return from_db_time(value) if value is not None else None

    def upcoming(self, account_id: str) -> list[SendRow]:
        """The account's waiting sends (scheduled, or awaiting the provider's review) with
        their locked units, soonest first."""
        rows = self._read(
            f"SELECT {SEND_COLUMNS} FROM sends WHERE account_id = %s "
            "AND status IN ('scheduled', 'awaiting_provider_review') "
            "ORDER BY goes_out_at, send_id",
            [account_id],
        )
        return [_send_row(r) for r in rows]

    def accounts_that_sent(self, phone: str, since: datetime, until: datetime) -> list[str]:
        """Accounts whose marketing the carrier took for ``phone`` between ``since`` and
        ``until`` (carrier replies). Messages skipped or refused before the carrier had them
        (opted out, over a limit) were never sent, so they do not count."""
        rows = self._read(
            "SELECT DISTINCT m.account_id FROM messages m JOIN sends s ON s.send_id = m.send_id "
            "WHERE m.phone = %s AND m.submitted_at >= %s AND m.submitted_at <= %s "
            "AND m.carrier_message_id IS NOT NULL AND s.kind = 'marketing' "
            "ORDER BY m.account_id",
            [
                phone,
                db_time(since, self.db.dialect),
                db_time(until, self.db.dialect),
            ],
        )
        return [r[0] for r in rows]

    def dashboard(self, account_id: str) -> Dashboard:
        """Messages by status, by Beijing day and by product; success rate; units. Read from
        ``message_daily`` (a row per day, template and product, kept with the sends), so it
        costs the same with a million messages as with ten."""
        rows = self._read(
            f"SELECT day, product, {', '.join(message_daily.FIGURES)} FROM message_daily "
            "WHERE account_id = %s ORDER BY day, product",
            [account_id],
        )
        by_status: dict[str, int] = dict.fromkeys(STATUSES, 0)
        days: dict[str, dict[str, int]] = {}
        products: dict[str, dict[str, int]] = {}
        charged = refunded = 0
        for day, product, *figures in rows:
            counts = dict(zip(STATUSES, (int(f) for f in figures[:5]), strict=True))
            if not any(counts.values()):  # a cancelled send's day keeps a row of zeros
                continue
            named = str(product) if product != message_daily.NONE else "none"
            for status, count in counts.items():
                by_status[status] += count
                days.setdefault(str(day), dict.fromkeys(STATUSES, 0))[status] += count
                products.setdefault(named, dict.fromkeys(STATUSES, 0))[status] += count
            charged += int(figures[5])
            refunded += int(figures[6])
        settled = by_status["success"] + by_status["failed"] + by_status["unknown"]
        return Dashboard(
            by_status=by_status,
            by_day=[{"day": d, **v} for d, v in sorted(days.items())],
            by_product=[{"product": p, **v} for p, v in sorted(products.items())],
            success_rate=round(by_status["success"] / settled, 4) if settled else None,
            units_charged=charged,
            units_refunded=refunded,
        )

    def _read(self, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
        with self.db.reading() as tx:
            return tx.execute(sql, params)


def _send_row(r: tuple[Any, ...]) -> SendRow:
    counts = dict(zip(STATUSES, (int(v) for v in r[11:16]), strict=True))
    return SendRow(
        send_id=r[0], account_id=r[1], template_id=r[2], type=r[3], kind=r[4], product=r[5],
        status=r[6], total=int(r[7]), units_per_message=int(r[8]), units_charged=int(r[9]),
        units_refunded=int(r[10]), counts=counts, text=r[16], created_at=from_db_time(r[17]),
        units_locked=int(r[18]), scheduled_at=maybe_db_time(r[19]),
        review_due_at=maybe_db_time(r[20]),
        goes_out_at=maybe_db_time(r[21]), cancel_reason=r[22],
    )  # fmt: skip


def _message_row(r: tuple[Any, ...]) -> MessageRow:
    return MessageRow(
        message_id=r[0], send_id=r[1], phone=r[2], status=r[3], units=int(r[4]), product=r[5],
        reason=r[6], carrier_message_id=r[7], created_at=from_db_time(r[8]),
        submitted_at=from_db_time(r[9]) if r[9] else None,
        final_at=from_db_time(r[10]) if r[10] else None,
    )  # fmt: skip

"""The webhook outbox in the shared database (``commands.ports.DeliveryOutbox``): every
delivery to make, made or given up, and every attempt with its answer and latency.

A delivery is written with the outbox handler's tracking row, in one transaction, so each
stored event's deliveries exist exactly once whoever follows the log. The dispatcher takes
due deliveries under a lease on the wall clock (a dispatcher killed mid-delivery leaves its
lease, which runs out: at least once), and only the oldest undelivered delivery of a key
(a message, a send) to an endpoint, so one message's events reach a receiver in order.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from ..commands.ports import AnsweredDelivery, DueDelivery, NewDelivery
from . import tracking
from .sql import SqlDatabase, Tx

LEASE = timedelta(minutes=1)
ANALYZE_AFTER = 1000  # deliveries added (and at least as many as there were) before ANALYZE
PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"


class SqlDeliveryOutbox:
    def __init__(self, db: SqlDatabase, lease: timedelta = LEASE) -> None:
        self.db = db
        self.lease = lease  # a dispatcher's hold on the deliveries it took (wall clock)
        self._size_lock = threading.Lock()
        self._added = 0  # deliveries added since the table was last analyzed (see _grew)
        self._rows_analyzed = 0

    def create_tables(self) -> None:
        ts = "TIMESTAMPTZ" if self.db.dialect == "postgres" else "TEXT"
        with self.db.transaction() as tx:
            tx.execute(
                f"""CREATE TABLE IF NOT EXISTS webhook_deliveries (
                    delivery_id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL,
                    account_id TEXT NOT NULL, event_type TEXT NOT NULL,
                    ordering_key TEXT NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL,
                    created_at {ts} NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
                    due_at {ts}, lease_until {ts}, last_code INTEGER, last_error TEXT,
                    delivered_at {ts})"""
            )
            tx.execute("CREATE INDEX IF NOT EXISTS webhook_deliveries_due "
                       "ON webhook_deliveries (status, due_at)")  # fmt: skip
            tx.execute("CREATE INDEX IF NOT EXISTS webhook_deliveries_order "
                       "ON webhook_deliveries (webhook_id, ordering_key, seq)")  # fmt: skip
            tx.execute("CREATE INDEX IF NOT EXISTS webhook_deliveries_account "
                       "ON webhook_deliveries (account_id, created_at)")  # fmt: skip
            tx.execute(
                f"""CREATE TABLE IF NOT EXISTS webhook_failing (
                    webhook_id TEXT PRIMARY KEY, since {ts} NOT NULL)"""
            )  # an endpoint whose last attempt failed, since its first failure in a row
            tx.execute(
                f"""CREATE TABLE IF NOT EXISTS webhook_attempts (
                    delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, at {ts} NOT NULL,
                    status_code INTEGER, error TEXT, latency_ms DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (delivery_id, attempt))"""
            )

    def ensure_tracking(self, name: str, application: str) -> None:
        with self.db.transaction() as tx:
            tracking.ensure(tx, name, application)

    def position(self, name: str) -> int:
        with self.db.reading() as tx:
            return tracking.position(tx, name)

    def enqueue(self, name: str, start: int, end: int, deliveries: Sequence[NewDelivery]) -> bool:
        try:
            with self.db.transaction() as tx:
                tracking.advance(tx, name, start, end)
                tx.executemany(
                    "INSERT INTO webhook_deliveries (delivery_id, webhook_id, account_id, "
                    "event_type, ordering_key, seq, body, created_at, status, attempts, due_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s) "
                    "ON CONFLICT (delivery_id) DO NOTHING",
                    [(d.delivery_id, str(d.webhook_id), d.account_id, d.event_type, d.key,
                      d.seq, d.body, self._time(d.created_at), PENDING, self._time(d.due_at))
                     for d in deliveries],
                )  # fmt: skip
        except tracking.StaleTracking:
            return False
        self._grew(len(deliveries))
        return True

    def _grew(self, added: int) -> None:
        """Keep the planner's idea of the table's size true: a queue table grows from empty
        to a send's 20,000 deliveries in seconds, long before autovacuum looks, and with the
        statistics of an almost empty table PostgreSQL takes the wrong index for
        ``claim_due``'s ordering check (each round then compares every pending delivery with
        every other: 156 s for 20,000 instead of 2 ms)."""
        if self.db.dialect != "postgres":
            return
        with self._size_lock:
            self._added += added
            if self._added < max(ANALYZE_AFTER, self._rows_analyzed):
                return
            self._added = 0
        with self.db.transaction() as tx:
            tx.execute("ANALYZE webhook_deliveries")
            rows = tx.execute(
                "SELECT reltuples FROM pg_class WHERE oid = 'webhook_deliveries'::regclass"
            )
        with self._size_lock:
            self._rows_analyzed = int(rows[0][0]) if rows else 0

    def claim_due(self, now: datetime, wall_now: datetime, limit: int) -> list[DueDelivery]:
        wall, until = self._time(wall_now), self._time(wall_now + self.lease)
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT d.delivery_id, d.webhook_id, d.account_id, d.event_type, d.body, "
                "d.attempts FROM webhook_deliveries d WHERE d.status = %s AND d.due_at <= %s "
                "AND (d.lease_until IS NULL OR d.lease_until < %s) AND NOT EXISTS (SELECT 1 "
                "FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND "
                "e.ordering_key = d.ordering_key AND e.status = %s AND e.seq < d.seq) "
                "ORDER BY d.due_at, d.seq LIMIT %s",
                (PENDING, self._time(now), wall, PENDING, limit),
            )
            taken = [r for r in rows if self._lease(tx, str(r[0]), wall, until)]
        return [DueDelivery(str(r[0]), UUID(str(r[1])), str(r[2]), str(r[3]), str(r[4]),
                            int(r[5])) for r in taken]  # fmt: skip

    def answered(self, answers: Sequence[AnsweredDelivery]) -> dict[UUID, datetime]:
        """Every attempt kept in the log, its delivery moved on, and each endpoint's failing
        streak ended (a delivery) or carried on (only failures), in one transaction."""
        ordered = sorted(answers, key=lambda a: a.attempt.delivery_id)  # one lock order
        with self.db.transaction() as tx:
            tx.executemany(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, "
                "latency_ms) SELECT %s, COALESCE(MAX(attempt), 0) + 1, %s, %s, %s, %s "
                "FROM webhook_attempts WHERE delivery_id = %s",
                [(a.attempt.delivery_id, self._time(a.attempt.at), a.attempt.status_code,
                  a.attempt.error, a.attempt.latency_ms, a.attempt.delivery_id)
                 for a in ordered],
            )  # fmt: skip
            tx.executemany(
                "UPDATE webhook_deliveries SET status = %s, attempts = attempts + 1, "
                "last_code = %s, last_error = %s, due_at = COALESCE(%s, due_at), "
                "delivered_at = %s, lease_until = NULL WHERE delivery_id = %s",
                [(_status(a), a.attempt.status_code, a.attempt.error,
                  self._time(a.retry_at) if a.retry_at else None,
                  self._time(a.attempt.at) if a.delivered else None, a.attempt.delivery_id)
                 for a in ordered],
            )  # fmt: skip
            return self._failing(tx, answers)

    def _failing(self, tx: Tx, answers: Sequence[AnsweredDelivery]) -> dict[UUID, datetime]:
        """A delivery ends its endpoint's failing streak; an endpoint with only failures
        starts one or carries it on. Returns the streaks of the endpoints that failed."""
        delivered = sorted({str(a.attempt.webhook_id) for a in answers if a.delivered})
        first_failure: dict[str, datetime] = {}
        for a in answers:
            webhook = str(a.attempt.webhook_id)
            if not a.delivered and webhook not in delivered:
                first_failure[webhook] = min(first_failure.get(webhook, a.attempt.at), a.attempt.at)
        if delivered:  # by key: no row (the usual case) locks nothing
            tx.executemany("DELETE FROM webhook_failing WHERE webhook_id = %s",
                           [(w,) for w in delivered])  # fmt: skip
        failing: dict[UUID, datetime] = {}
        for webhook in sorted(first_failure):
            tx.execute(
                "INSERT INTO webhook_failing (webhook_id, since) VALUES (%s, %s) "
                "ON CONFLICT (webhook_id) DO NOTHING",
                (webhook, self._time(first_failure[webhook])),
            )
            rows = tx.execute("SELECT since FROM webhook_failing WHERE webhook_id = %s",
                              (webhook,))  # fmt: skip
            failing[UUID(webhook)] = _parse(rows[0][0])
        return failing

    def cancel(self, webhook_id: UUID) -> int:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE webhook_deliveries SET status = %s, lease_until = NULL "
                "WHERE webhook_id = %s AND status = %s",
                (CANCELLED, str(webhook_id), PENDING),
            )
            return tx.rowcount

    def next_due_after(self, now: datetime) -> datetime | None:
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT MIN(due_at) FROM webhook_deliveries WHERE status = %s AND due_at > %s",
                (PENDING, self._time(now)),
            )
        value = rows[0][0] if rows else None
        return _parse(value) if value is not None else None

    def retry(self, delivery_id: str, account_id: str | None, now: datetime) -> bool:
        mine = "" if account_id is None else " AND account_id = %s"
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE webhook_deliveries SET status = %s, due_at = %s, lease_until = NULL "
                f"WHERE delivery_id = %s AND status <> %s{mine}",
                (PENDING, self._time(now), delivery_id, CANCELLED,
                 *([] if account_id is None else [account_id])),
            )  # fmt: skip
            return tx.rowcount == 1

    def replay(self, webhook_id: UUID, since: datetime, now: datetime) -> int:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE webhook_deliveries SET status = %s, due_at = %s, lease_until = NULL "
                "WHERE webhook_id = %s AND created_at >= %s AND status <> %s",
                (PENDING, self._time(now), str(webhook_id), self._time(since), CANCELLED),
            )
            return tx.rowcount

    def _lease(self, tx: Tx, delivery_id: str, wall: object, until: object) -> bool:
        tx.execute(
            "UPDATE webhook_deliveries SET lease_until = %s WHERE delivery_id = %s "
            "AND status = %s AND (lease_until IS NULL OR lease_until < %s)",
            (until, delivery_id, PENDING, wall),
        )
        return tx.rowcount == 1

    def _time(self, value: datetime) -> object:
        if self.db.dialect == "postgres":
            return value
        return value.astimezone(UTC).isoformat(timespec="microseconds")


def _status(answer: AnsweredDelivery) -> str:
    if answer.delivered:
        return DELIVERED
    return PENDING if answer.retry_at else FAILED


def _parse(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

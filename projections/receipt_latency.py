"""How long handed-over messages waited for their receipt: a histogram (hand-over to the
receipt's event, seconds) the sends read model keeps in a table of one row per bucket, in the
same transaction as the receipts, so every process exports the same figures and a rebuild
recomputes them from the events.

Only receipts count (``ReceiptsRecorded`` of messages the carrier had); messages that expire
unknown after 72 hours never had one. A table made beside older data starts from zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..adapters.sql import SqlDatabase, Tx

# upper bounds in seconds, up to the 72 hours after which a message is unknown (Q8)
BOUNDS: tuple[float, ...] = (1, 5, 10, 30, 60, 300, 900, 1800, 3600, 21600, 86400, 259200)


def create_table(tx: Tx) -> None:
    tx.execute(
        """CREATE TABLE IF NOT EXISTS receipt_latency (
            bucket INTEGER PRIMARY KEY, count BIGINT NOT NULL,
            seconds DOUBLE PRECISION NOT NULL)"""
    )


def drop_table(tx: Tx) -> None:
    tx.execute("DROP TABLE IF EXISTS receipt_latency")


def bucket_of(seconds: float) -> int:
    """The index of the first bound at or above ``seconds`` (``len(BOUNDS)``: above all)."""
    return next((i for i, bound in enumerate(BOUNDS) if seconds <= bound), len(BOUNDS))


@dataclass(frozen=True)
class ReceiptLatency:
    """Cumulative counts per upper bound (the last, ``inf``, is every receipt) and the sum."""

    buckets: list[tuple[float, int]]
    sum_seconds: float


class ReceiptLatencyQueries:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def histogram(self) -> ReceiptLatency:
        with self.db.reading() as tx:
            rows = tx.execute("SELECT bucket, count, seconds FROM receipt_latency")
        counts = [0] * (len(BOUNDS) + 1)
        total = 0.0
        for bucket, count, seconds in rows:
            counts[int(bucket)] += int(count)
            total += float(seconds)
        cumulative: list[tuple[float, int]] = []
        running = 0
        for bound, count in zip((*BOUNDS, float("inf")), counts, strict=True):
            running += count
            cumulative.append((float(bound), running))
        return ReceiptLatency(cumulative, total)

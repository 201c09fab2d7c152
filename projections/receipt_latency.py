"""How long handed-over messages waited for their receipt: a histogram (hand-over to the
receipt's event, seconds) the sends read model keeps in a table of one row per bucket, in the
same transaction as the receipts, so every process exports the same figures and a rebuild
recomputes them from the events.

Only receipts count (``ReceiptsRecorded`` of messages the carrier had); messages that expire
unknown after 72 hours never had one. A table made beside older data starts from zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..adapters.sql import SqlDatabase, Tx
from .read_model import from_db_time

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


def observe(tx: Tx, send_id: str, indices: Sequence[int], at: object) -> None:
    """Count the receipts of the send's messages ``indices`` arriving ``at``: each of those
    still awaiting one (``sending``), from its hand-over. Runs before they change status."""
    if not indices:
        return
    marks = ", ".join(["%s"] * len(indices))
    rows = tx.execute(
        "SELECT submitted_at FROM messages WHERE send_id = %s AND status = 'sending' "
        f"AND idx IN ({marks}) AND submitted_at IS NOT NULL",
        (send_id, *indices),
    )
    arrived = from_db_time(at)
    buckets: dict[int, tuple[int, float]] = {}
    for (submitted,) in rows:
        seconds = max((arrived - from_db_time(submitted)).total_seconds(), 0.0)
        count, total = buckets.get(bucket_of(seconds), (0, 0.0))
        buckets[bucket_of(seconds)] = (count + 1, total + seconds)
    if buckets:
        tx.executemany(
            "INSERT INTO receipt_latency (bucket, count, seconds) VALUES (%s, %s, %s) "
            "ON CONFLICT (bucket) DO UPDATE SET count = receipt_latency.count + excluded.count, "
            "seconds = receipt_latency.seconds + excluded.seconds",
            [(b, n, s) for b, (n, s) in sorted(buckets.items())],
        )


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

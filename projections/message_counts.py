"""How many messages are in each status, by failure reason and product: a small table the
sends read model keeps in the same transaction as the ``messages`` rows it counts, so the
metrics read a few dozen rows instead of grouping a table of millions on every scrape.

A batch of events adds, per (status, reason, product), how many of the messages it touched are
there after it less how many were before (``send_rows.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..adapters.sql import SqlDatabase, Tx

NONE = ""  # the reason or product of a message that has none (a key column cannot be NULL)
CountKey = tuple[str, str, str]  # (status, reason, product)


def table_exists(tx: Tx, table: str) -> bool:
    if tx.dialect == "postgres":
        return tx.execute("SELECT to_regclass(%s)", (table,))[0][0] is not None
    rows = tx.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", (table,))
    return bool(rows)


def create_table(tx: Tx) -> None:
    """The counts table; made from the messages already there when it is new beside them
    (a database of a version before it: one GROUP BY, once)."""
    new = not table_exists(tx, "message_counts")
    tx.execute(
        """CREATE TABLE IF NOT EXISTS message_counts (
            status TEXT NOT NULL, reason TEXT NOT NULL, product TEXT NOT NULL,
            count BIGINT NOT NULL, PRIMARY KEY (status, reason, product))"""
    )
    if new:
        tx.execute(
            "INSERT INTO message_counts (status, reason, product, count) "
            "SELECT status, COALESCE(reason, ''), COALESCE(product, ''), COUNT(*) "
            "FROM messages GROUP BY status, COALESCE(reason, ''), COALESCE(product, '')"
        )


def drop_table(tx: Tx) -> None:
    tx.execute("DROP TABLE IF EXISTS message_counts")


@dataclass(frozen=True)
class MessageCount:
    status: str
    reason: str | None
    product: str | None
    count: int


class MessageCountQueries:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def counts(self) -> list[MessageCount]:
        """Every (status, reason, product) that has had messages, with how many are there now."""
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT status, reason, product, count FROM message_counts "
                "ORDER BY status, reason, product"
            )
        return [MessageCount(s, r or None, p or None, int(n)) for s, r, p, n in rows]

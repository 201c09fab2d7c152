"""How many messages are in each status, by failure reason and product: a small table the
sends read model keeps in the same transaction as the ``messages`` rows it counts, so the
metrics read a few dozen rows instead of grouping a table of millions on every scrape.

Each change of ``messages`` is described as moves (``MessageMoves``): the rows about to change
are counted where they are (by status, reason and product, through the ``messages_send``
index of the send), and those counts are taken from there and added where the rows go.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class MessageMoves:
    """The count changes of one event, written once at its end (``save``)."""

    changes: Counter[CountKey] = field(default_factory=Counter)

    def added(self, status: str, product: str | None, count: int) -> None:
        self.changes[(status, NONE, product or NONE)] += count

    def leaving(self, tx: Tx, where: str, params: Sequence[Any]) -> list[tuple[CountKey, int]]:
        """Count the messages matching ``where`` out of their places; returns them."""
        rows = tx.execute(
            "SELECT status, COALESCE(reason, ''), COALESCE(product, ''), COUNT(*) "
            f"FROM messages WHERE {where} GROUP BY status, reason, product",
            params,
        )
        leaving = [((str(s), str(r), str(p)), int(n)) for s, r, p, n in rows]
        for key, count in leaving:
            self.changes[key] -= count
        return leaving

    def moving(
        self, tx: Tx, where: str, params: Sequence[Any], status: str, reason: str | None
    ) -> None:
        """The messages matching ``where`` are about to take ``status`` (and ``reason``, or
        keep theirs)."""
        for (_, old_reason, product), count in self.leaving(tx, where, params):
            self.changes[(status, reason or old_reason, product)] += count

    def save(self, tx: Tx) -> None:
        changed = [(*key, n) for key, n in sorted(self.changes.items()) if n]
        if changed:
            tx.executemany(
                "INSERT INTO message_counts (status, reason, product, count) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (status, reason, product) "
                "DO UPDATE SET count = message_counts.count + excluded.count",
                changed,
            )
        self.changes.clear()


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

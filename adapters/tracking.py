"""Tracking rows: how far each handler of the log (a read model, the send worker, the Kafka
publisher) has processed its application's notification log.

A handler moves its row with compare-and-set in the same transaction as its effect (a read
model: before changing its tables; the others: as soon as their effect is done), so the row
lock serialises competing followers and each event takes effect once, whoever crashes when.
"""

from __future__ import annotations

from .sql import SqlDatabase, Tx

CREATE_SQL = """
CREATE TABLE IF NOT EXISTS projection_tracking (
    name TEXT PRIMARY KEY,
    application TEXT NOT NULL,
    position BIGINT NOT NULL
)
"""


class StaleTracking(Exception):
    """Another follower advanced this read model first; this batch must be dropped."""


def ensure(tx: Tx, name: str, application: str) -> None:
    tx.execute(CREATE_SQL)
    tx.execute(
        "INSERT INTO projection_tracking (name, application, position) VALUES (%s, %s, 0) "
        "ON CONFLICT (name) DO NOTHING",
        (name, application),
    )


def position(tx: Tx, name: str) -> int:
    rows = tx.execute("SELECT position FROM projection_tracking WHERE name = %s", (name,))
    return int(rows[0][0]) if rows else 0


def advance(tx: Tx, name: str, expected: int, new: int) -> None:
    tx.execute(
        "UPDATE projection_tracking SET position = %s WHERE name = %s AND position = %s",
        (new, name, expected),
    )
    if tx.rowcount != 1:
        raise StaleTracking(name)


def reset(tx: Tx, name: str) -> None:
    tx.execute("UPDATE projection_tracking SET position = 0 WHERE name = %s", (name,))


class SqlTracking:
    """``commands.ports.Tracking`` over the tracking rows: for handlers whose effect is not a
    SQL change (a hand-over to the carrier, a publication to the broker), each move its own
    transaction."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def ensure(self, name: str, application: str) -> None:
        with self.db.transaction() as tx:
            ensure(tx, name, application)

    def position(self, name: str) -> int:
        with self.db.reading() as tx:
            return position(tx, name)

    def advance(self, name: str, expected: int, new: int) -> bool:
        """Move the row from ``expected`` to ``new``; False when another follower moved it."""
        try:
            with self.db.transaction() as tx:
                advance(tx, name, expected, new)
        except StaleTracking:
            return False
        return True

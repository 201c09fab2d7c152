"""Tracking rows: how far each read model has read its application's notification log.

A follower moves a row with compare-and-set *before* changing the read model, in the same
transaction, so the row lock serialises competing followers and each event takes effect
exactly once, whoever crashes when.
"""

from __future__ import annotations

from ..adapters.sql import Tx

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

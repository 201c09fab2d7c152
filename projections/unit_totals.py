"""Units moved by each kind of ledger entry (purchase, lock, release, charge, refund), by
product: a small table the quota ledger read model keeps in the same transaction as each
entry, so the metrics never sum the ledger itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..adapters.sql import SqlDatabase, Tx
from .message_counts import table_exists


def create_table(tx: Tx) -> None:
    """The totals table; made from the entries already there when it is new beside them."""
    new = not table_exists(tx, "quota_unit_totals")
    tx.execute(
        """CREATE TABLE IF NOT EXISTS quota_unit_totals (
            kind TEXT NOT NULL, product TEXT NOT NULL, units BIGINT NOT NULL,
            PRIMARY KEY (kind, product))"""
    )
    if new:
        tx.execute(
            "INSERT INTO quota_unit_totals (kind, product, units) "
            "SELECT kind, COALESCE(product, ''), SUM(units) FROM quota_ledger "
            "GROUP BY kind, COALESCE(product, '')"
        )


def drop_table(tx: Tx) -> None:
    tx.execute("DROP TABLE IF EXISTS quota_unit_totals")


def add_all(tx: Tx, units: Mapping[tuple[str, str], int]) -> None:
    """Add ``units`` by (kind, product; ``NONE`` for none): each key an entry had, even at 0."""
    changed = [(kind, product, n) for (kind, product), n in sorted(units.items())]
    if changed:
        tx.executemany(
            "INSERT INTO quota_unit_totals (kind, product, units) VALUES (%s, %s, %s) "
            "ON CONFLICT (kind, product) DO UPDATE SET units = quota_unit_totals.units + "
            "excluded.units",
            changed,
        )


@dataclass(frozen=True)
class UnitTotal:
    kind: str
    product: str | None
    units: int


class UnitTotalQueries:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def totals(self) -> list[UnitTotal]:
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT kind, product, units FROM quota_unit_totals ORDER BY kind, product"
            )
        return [UnitTotal(k, p or None, int(u)) for k, p, u in rows]

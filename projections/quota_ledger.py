"""The quota ledger and balances read model (Q12): what finance audits and dashboards read.

``quota_ledger`` holds every entry with the five balance figures right after it, so the
balance at any past instant is one indexed row (``as_of``); ``quota_balances`` holds the
current figures per account.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters.sql import SqlDatabase, Tx
from ..commands.ports import Notified
from ..domain.ledger import Balance, EntryKind, LedgerEntry, Reference
from ..domain.quota import QuotaPool, entry_from_event
from . import unit_totals
from .message_counts import NONE
from .read_model import db_time, from_db_time, select_in, timestamp_type

FIGURES = ("available", "locked", "purchased_total", "charged_total", "refunded_total")


class QuotaLedgerReadModel:
    name = "quota_ledger"
    application = "quota"

    def create_tables(self, tx: Tx, dialect: str) -> None:
        ts = timestamp_type(dialect)
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS quota_balances (
                pool_id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL UNIQUE,
                available BIGINT NOT NULL, locked BIGINT NOT NULL,
                purchased_total BIGINT NOT NULL, charged_total BIGINT NOT NULL,
                refunded_total BIGINT NOT NULL,
                updated_at {ts} NOT NULL, position BIGINT NOT NULL)"""
        )
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS quota_ledger (
                entry_id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL,
                sequence BIGINT NOT NULL,
                at {ts} NOT NULL,
                kind TEXT NOT NULL,
                units BIGINT NOT NULL,
                available_change BIGINT NOT NULL,
                available_after BIGINT NOT NULL, locked_after BIGINT NOT NULL,
                purchased_after BIGINT NOT NULL, charged_after BIGINT NOT NULL,
                refunded_after BIGINT NOT NULL,
                reference_type TEXT NOT NULL, reference_id TEXT NOT NULL,
                related_type TEXT, related_id TEXT,
                product TEXT, actor TEXT NOT NULL,
                position BIGINT NOT NULL,
                UNIQUE (account_id, sequence))"""
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS quota_ledger_account_at ON quota_ledger (account_id, at)"
        )
        # a page of one kind (refunds only, say) reads its own entries, not every entry's
        tx.execute(
            "CREATE INDEX IF NOT EXISTS quota_ledger_account_kind "
            "ON quota_ledger (account_id, kind, sequence)"
        )
        unit_totals.create_table(tx)

    def drop_tables(self, tx: Tx) -> None:
        unit_totals.drop_table(tx)
        tx.execute("DROP TABLE IF EXISTS quota_ledger")
        tx.execute("DROP TABLE IF EXISTS quota_balances")

    def apply_batch(self, tx: Tx, batch: Sequence[Notified]) -> None:
        """Each pool's balance read once, moved entry by entry here, written once; the
        entries and the unit totals written in one statement each."""
        d = tx.dialect
        events = [n.event for n in batch]
        opened = {str(e.originator_id) for e in events if isinstance(e, QuotaPool.Opened)}
        balances: dict[str, tuple[str, Balance]] = {
            str(r[0]): (str(r[1]), Balance(*(int(f) for f in r[2:])))
            for r in select_in(
                tx,
                f"SELECT pool_id, account_id, {', '.join(FIGURES)} FROM quota_balances "
                "WHERE pool_id",
                (str(e.originator_id) for e in events if isinstance(e, QuotaPool.EntryRecorded)),
            )
        }  # fmt: skip
        moved: dict[str, tuple[object, int]] = {}  # pool -> (updated_at, position)
        entries: list[tuple[Any, ...]] = []
        totals: Counter[tuple[str, str]] = Counter()
        for item in batch:
            event, pool_id = item.event, str(item.event.originator_id)
            if isinstance(event, QuotaPool.Opened):
                balances[pool_id] = (event.account_id, Balance(0, 0, 0, 0, 0))
                moved[pool_id] = (event.timestamp, item.position)
            elif isinstance(event, QuotaPool.EntryRecorded):
                account_id, balance = balances[pool_id]
                entry = entry_from_event(event, account_id)
                after = balance.after(entry.kind, entry.units, entry.from_lock)
                balances[pool_id] = (account_id, after)
                moved[pool_id] = (entry.at, item.position)
                entries.append(_entry_row(entry, account_id, after, item.position, d))
                totals[(entry.kind.value, entry.product or NONE)] += entry.units
        self._save(tx, opened, balances, moved, entries, totals)

    def _save(
        self,
        tx: Tx,
        opened: set[str],
        balances: dict[str, tuple[str, Balance]],
        moved: dict[str, tuple[Any, int]],
        entries: list[tuple[Any, ...]],
        totals: Counter[tuple[str, str]],
    ) -> None:
        d = tx.dialect
        rows = [
            (*_figures(balances[pool][1]), db_time(at, d), position, pool, balances[pool][0])
            for pool, (at, position) in sorted(moved.items())
        ]
        if opened:
            tx.executemany(
                "INSERT INTO quota_balances (available, locked, purchased_total, "
                "charged_total, refunded_total, updated_at, position, pool_id, account_id) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [r for r in rows if r[7] in opened],
            )
        if len(opened) < len(rows):
            tx.executemany(
                "UPDATE quota_balances SET available = %s, locked = %s, purchased_total = %s, "
                "charged_total = %s, refunded_total = %s, updated_at = %s, position = %s "
                "WHERE pool_id = %s",
                [r[:8] for r in rows if r[7] not in opened],
            )
        if entries:
            tx.executemany(
                "INSERT INTO quota_ledger (entry_id, account_id, sequence, at, kind, units, "
                "available_change, available_after, locked_after, purchased_after, "
                "charged_after, refunded_after, reference_type, reference_id, related_type, "
                "related_id, product, actor, position) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                entries,
            )
        unit_totals.add_all(tx, totals)


def _figures(b: Balance) -> tuple[int, ...]:
    return (b.available, b.locked, b.purchased_total, b.charged_total, b.refunded_total)


def _entry_row(
    entry: LedgerEntry, account_id: str, after: Balance, position: int, dialect: str
) -> tuple[Any, ...]:
    related = entry.related
    return (
        entry.entry_id, account_id, entry.sequence, db_time(entry.at, dialect),
        entry.kind.value, entry.units, entry.available_change, *_figures(after),
        entry.reference.type, entry.reference.id, related.type if related else None,
        related.id if related else None, entry.product, entry.actor, position,
    )  # fmt: skip


@dataclass(frozen=True)
class LedgerRow:
    entry_id: str
    account_id: str
    sequence: int
    at: datetime
    kind: str
    units: int
    available_change: int
    available_after: int
    locked_after: int
    reference: Reference
    related: Reference | None
    product: str | None
    actor: str

    @property
    def from_lock(self) -> bool:
        """A charge that consumed a scheduled send's lock (it names that lock as related)."""
        return self.kind == EntryKind.CHARGE and self.related is not None


@dataclass(frozen=True)
class LedgerQuery:
    account_id: str
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    kinds: tuple[EntryKind, ...] = ()
    after_sequence: int = 0
    limit: int = 100


class QuotaLedgerQueries:
    """Reads of the ledger read model (eventually consistent with the event store)."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def balance(self, account_id: str, as_of: datetime | None = None) -> Balance:
        with self.db.reading() as tx:
            if as_of is None:
                rows = tx.execute(
                    f"SELECT {', '.join(FIGURES)} FROM quota_balances WHERE account_id = %s",
                    (account_id,),
                )
            else:
                rows = tx.execute(
                    "SELECT available_after, locked_after, purchased_after, charged_after, "
                    "refunded_after FROM quota_ledger WHERE account_id = %s AND at <= %s "
                    "ORDER BY sequence DESC LIMIT 1",
                    (account_id, db_time(as_of, self.db.dialect)),
                )
        return Balance(*(int(v) for v in rows[0])) if rows else Balance()

    def entries(self, query: LedgerQuery) -> list[LedgerRow]:
        sql = [
            "SELECT entry_id, account_id, sequence, at, kind, units, available_change, "
            "available_after, locked_after, reference_type, reference_id, related_type, "
            "related_id, product, actor FROM quota_ledger WHERE account_id = %s AND sequence > %s"
        ]
        params: list[Any] = [query.account_id, query.after_sequence]
        if query.start is not None:
            sql.append("AND at >= %s")
            params.append(db_time(query.start, self.db.dialect))
        if query.end is not None:
            sql.append("AND at < %s")
            params.append(db_time(query.end, self.db.dialect))
        if query.kinds:
            sql.append(f"AND kind IN ({', '.join(['%s'] * len(query.kinds))})")
            params.extend(k.value for k in query.kinds)
        sql.append("ORDER BY sequence LIMIT %s")
        params.append(query.limit)
        with self.db.reading() as tx:
            rows = tx.execute(" ".join(sql), params)
        return [_ledger_row(r) for r in rows]


def _ledger_row(r: tuple[Any, ...]) -> LedgerRow:
    return LedgerRow(
        entry_id=r[0],
        account_id=r[1],
        sequence=int(r[2]),
        at=from_db_time(r[3]),
        kind=r[4],
        units=int(r[5]),
        available_change=int(r[6]),
        available_after=int(r[7]),
        locked_after=int(r[8]),
        reference=Reference(r[9], r[10]),
        related=Reference(r[11], r[12]) if r[11] else None,
        product=r[13],
        actor=r[14],
    )

"""Audience read models: each account's synced customers (S4) and its opt-out list.

``customers`` answers "the numbers meeting these conditions" for audience sends and lists the
customers; ``opt_outs`` answers "which of these numbers opted out" for marketing sends (10,000
numbers at a time) and lists the account's opt-outs. Both follow the "audience" application.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters.sql import SqlDatabase, Tx
from ..domain.audience import Condition, Customer, OptOut, parse_condition
from .read_model import EachWrite, db_time, from_db_time, timestamp_type

IN_LIST_CHUNK = 1000  # phones per IN (...) list
WHOLE_SET_LIMIT = 5000  # an account with at most this many opt-outs is read whole

CUSTOMER_COLUMNS = "customer_id, account_id, condition, phone, product, name, synced_at"
OPT_OUT_COLUMNS = "account_id, phone, source, text, opted_out_at"


class CustomersReadModel(EachWrite):
    name = "customers"
    application = "audience"
    table = "customers"

    def create_tables(self, tx: Tx, dialect: str) -> None:
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS {self.table} (
                account_id TEXT NOT NULL, condition TEXT NOT NULL, phone TEXT NOT NULL,
                product TEXT NOT NULL, name TEXT, synced_at {timestamp_type(dialect)} NOT NULL,
                customer_id TEXT NOT NULL UNIQUE,
                PRIMARY KEY (account_id, product, phone, condition))"""
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {self.table}_condition "
            f"ON {self.table} (account_id, condition, synced_at)"
        )

    def drop_tables(self, tx: Tx) -> None:
        tx.execute(f"DROP TABLE IF EXISTS {self.table}")

    def statement(self, event: Any, dialect: str) -> tuple[str, Sequence[Any]] | None:
        if isinstance(event, Customer.Synced):
            return (
                f"INSERT INTO {self.table} ({CUSTOMER_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (str(event.originator_id), event.account_id, event.condition, event.phone,
                 event.product, event.name, db_time(event.timestamp, dialect)),
            )  # fmt: skip
        if isinstance(event, Customer.Renamed):
            return (
                f"UPDATE {self.table} SET name = %s WHERE customer_id = %s",
                (event.name, str(event.originator_id)),
            )
        return None


class OptOutsReadModel(EachWrite):
    name = "opt_outs"
    application = "audience"
    table = "opt_outs"

    def create_tables(self, tx: Tx, dialect: str) -> None:
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS {self.table} (
                account_id TEXT NOT NULL, phone TEXT NOT NULL, source TEXT NOT NULL,
                text TEXT NOT NULL, opted_out_at {timestamp_type(dialect)} NOT NULL,
                PRIMARY KEY (account_id, phone))"""
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {self.table}_account "
            f"ON {self.table} (account_id, opted_out_at)"
        )

    def drop_tables(self, tx: Tx) -> None:
        tx.execute(f"DROP TABLE IF EXISTS {self.table}")

    def statement(self, event: Any, dialect: str) -> tuple[str, Sequence[Any]] | None:
        if isinstance(event, OptOut.OptedOut):
            return (
                f"INSERT INTO {self.table} ({OPT_OUT_COLUMNS}) VALUES (%s, %s, %s, %s, %s)",
                (event.account_id, event.phone, event.source, event.text,
                 db_time(event.timestamp, dialect)),
            )  # fmt: skip
        if isinstance(event, OptOut.OptOutRemoved):
            return (
                f"DELETE FROM {self.table} WHERE account_id = %s AND phone = %s",
                (event.account_id, event.phone),
            )
        return None


@dataclass(frozen=True)
class CustomerRow:
    customer_id: str
    account_id: str
    condition: str
    phone: str
    product: str
    name: str | None
    synced_at: datetime


@dataclass(frozen=True)
class OptOutRow:
    account_id: str
    phone: str
    source: str
    text: str
    opted_out_at: datetime


class AudienceQueries:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    # -- customers (S4) -------------------------------------------------------------------

    def numbers(self, account_id: str, conditions: Sequence[str]) -> list[str]:
        """S4: the distinct numbers meeting any of ``conditions``, in the order they were
        first synced (then by number). An unknown condition is InvalidInput."""
        chosen = sorted({parse_condition(c).value for c in conditions})
        if not chosen:
            return []
        marks = ", ".join(["%s"] * len(chosen))
        with self.db.reading() as tx:
            rows = tx.execute(
                f"SELECT phone FROM customers WHERE account_id = %s AND condition IN ({marks}) "
                "GROUP BY phone ORDER BY MIN(synced_at), phone",
                (account_id, *chosen),
            )
        return [r[0] for r in rows]

    def named_numbers(
        self, account_id: str, conditions: Sequence[str]
    ) -> list[tuple[str, str | None]]:
        """S4: as ``numbers``, each with the customer's name (of its latest sync that has
        one: a number synced from two products may carry two names)."""
        chosen = sorted({parse_condition(c).value for c in conditions})
        if not chosen:
            return []
        marks = ", ".join(["%s"] * len(chosen))
        with self.db.reading() as tx:
            rows = tx.execute(
                f"SELECT phone, name, synced_at FROM customers WHERE account_id = %s "
                f"AND condition IN ({marks}) ORDER BY synced_at, phone",
                (account_id, *chosen),
            )
        names: dict[str, str | None] = {}
        for phone, name, _ in rows:
            if phone not in names or name:
                names[phone] = name or names.get(phone)
        return list(names.items())

    def customers(
        self, account_id: str, condition: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[CustomerRow]:
        """The account's customers, oldest sync first, optionally of one condition."""
        sql = f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE account_id = %s"
        params: list[object] = [account_id]
        if condition is not None:
            sql += " AND condition = %s"
            params.append(parse_condition(condition).value)
        sql += " ORDER BY synced_at, phone, product, condition LIMIT %s OFFSET %s"
        with self.db.reading() as tx:
            rows = tx.execute(sql, [*params, limit, offset])
        return [CustomerRow(r[0], r[1], r[2], r[3], r[4], r[5], from_db_time(r[6])) for r in rows]

    def count_by_condition(self, account_id: str) -> dict[str, int]:
        """Customers per condition (each condition listed, 0 when it has none)."""
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT condition, COUNT(*) FROM customers WHERE account_id = %s "
                "GROUP BY condition",
                (account_id,),
            )
        counts = {c.value: 0 for c in Condition}
        counts.update({r[0]: int(r[1]) for r in rows})
        return counts

    # -- opt-outs -------------------------------------------------------------------------

    def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        """Which of ``phones`` (11-digit numbers) opted out of the account's marketing.

        One read: the account's whole list when it is small (or not larger than the question),
        else IN lists of at most ``IN_LIST_CHUNK`` numbers."""
        wanted = set(phones)
        if not wanted:
            return set()
        with self.db.reading() as tx:
            count = int(
                tx.execute("SELECT COUNT(*) FROM opt_outs WHERE account_id = %s", (account_id,))[0][
                    0
                ]
            )
            if count == 0:
                return set()
            if count <= max(WHOLE_SET_LIMIT, len(wanted)):
                rows = tx.execute("SELECT phone FROM opt_outs WHERE account_id = %s", (account_id,))
                return {r[0] for r in rows} & wanted
            found: set[str] = set()
            ordered = sorted(wanted)
            for start in range(0, len(ordered), IN_LIST_CHUNK):
                chunk = ordered[start : start + IN_LIST_CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                rows = tx.execute(
                    f"SELECT phone FROM opt_outs WHERE account_id = %s AND phone IN ({marks})",
                    (account_id, *chunk),
                )
                found.update(r[0] for r in rows)
        return found

    def opt_outs(self, account_id: str, limit: int = 100, offset: int = 0) -> list[OptOutRow]:
        """The account's opt-out list, newest first."""
        with self.db.reading() as tx:
            rows = tx.execute(
                f"SELECT {OPT_OUT_COLUMNS} FROM opt_outs WHERE account_id = %s "
                "ORDER BY opted_out_at DESC, phone LIMIT %s OFFSET %s",
                (account_id, limit, offset),
            )
        return [OptOutRow(r[0], r[1], r[2], r[3], from_db_time(r[4])) for r in rows]

    def is_opted_out(self, account_id: str, phone: str) -> bool:
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT 1 FROM opt_outs WHERE account_id = %s AND phone = %s",
                (account_id, phone),
            )
        return bool(rows)

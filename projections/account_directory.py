"""The directory of accounts the operator browses: name, products and when each was opened,
read beside its balance (``quota_balances``) a page at a time.

The accounts' events live in their own application ("accounts"); this is its only read model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters.sql import SqlDatabase, Tx
from ..domain.accounts import Account
from .read_model import EachEvent, db_time, from_db_time, timestamp_type

PAGE_LIMIT = 200


class AccountDirectoryReadModel(EachEvent):
    name = "account_directory"
    application = "accounts"

    def create_tables(self, tx: Tx, dialect: str) -> None:
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS account_directory (
                account_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                products TEXT NOT NULL,
                opened_at {timestamp_type(dialect)} NOT NULL,
                position BIGINT NOT NULL)"""
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS account_directory_opened ON account_directory "
            "(opened_at, account_id)"
        )

    def drop_tables(self, tx: Tx) -> None:
        tx.execute("DROP TABLE IF EXISTS account_directory")

    def apply(self, tx: Tx, event: Any, position: int) -> None:
        if isinstance(event, Account.Created):
            tx.execute(
                "INSERT INTO account_directory (account_id, name, products, opened_at, position) "
                "VALUES (%s, %s, '', %s, %s)",
                (str(event.originator_id), event.name, db_time(event.timestamp, tx.dialect),
                 position),
            )  # fmt: skip
        elif isinstance(event, Account.ProductActivated):
            rows = tx.execute(
                "SELECT products FROM account_directory WHERE account_id = %s",
                (str(event.originator_id),),
            )
            products = [p for p in str(rows[0][0]).split(",") if p] if rows else []
            tx.execute(
                "UPDATE account_directory SET products = %s, position = %s WHERE account_id = %s",
                (",".join([*products, event.product]), position, str(event.originator_id)),
            )


@dataclass(frozen=True)
class AccountListing:
    account_id: str
    name: str
    products: list[str]
    opened_at: datetime
    available: int
    locked: int
    purchased_total: int


@dataclass(frozen=True)
class AccountPage:
    accounts: list[AccountListing]
    next_after: tuple[datetime, str] | None  # the keyset of the next page, if there is one


class AccountDirectory:
    """The operator's reads: accounts oldest first, optionally those whose name contains
    ``name``, each with its units (0 until its quota pool is projected)."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def page(
        self, name: str = "", after: tuple[datetime, str] | None = None, limit: int = 50
    ) -> AccountPage:
        limit = max(1, min(limit, PAGE_LIMIT))
        sql = [
            "SELECT d.account_id, d.name, d.products, d.opened_at, "
            "COALESCE(b.available, 0), COALESCE(b.locked, 0), COALESCE(b.purchased_total, 0) "
            "FROM account_directory d LEFT JOIN quota_balances b ON b.account_id = d.account_id "
            "WHERE 1 = 1"
        ]
        params: list[Any] = []
        if name:
            sql.append("AND LOWER(d.name) LIKE %s ESCAPE '\\'")
            params.append(f"%{_escaped(name.lower())}%")
        if after is not None:
            sql.append("AND (d.opened_at > %s OR (d.opened_at = %s AND d.account_id > %s))")
            at = db_time(after[0], self.db.dialect)
            params.extend([at, at, after[1]])
        sql.append("ORDER BY d.opened_at, d.account_id LIMIT %s")
        params.append(limit + 1)
        with self.db.reading() as tx:
            rows = tx.execute(" ".join(sql), params)
        listed = [_listing(r) for r in rows[:limit]]
        more = len(rows) > limit
        return AccountPage(listed, (listed[-1].opened_at, listed[-1].account_id) if more else None)

    def names(self, account_ids: Iterable[str]) -> dict[str, str]:
        """The names of ``account_ids`` (those the directory has), in one read."""
        wanted = sorted(set(account_ids))
        if not wanted:
            return {}
        marks = ", ".join(["%s"] * len(wanted))
        with self.db.reading() as tx:
            rows = tx.execute(
                f"SELECT account_id, name FROM account_directory WHERE account_id IN ({marks})",
                wanted,
            )
        return {str(r[0]): str(r[1]) for r in rows}


def _escaped(text: str) -> str:
    """``text`` matched literally by ``LIKE … ESCAPE '\\'`` (its wildcards escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _listing(r: tuple[Any, ...]) -> AccountListing:
    return AccountListing(
        account_id=str(r[0]),
        name=str(r[1]),
        products=[p for p in str(r[2]).split(",") if p],
        opened_at=from_db_time(r[3]),
        available=int(r[4]),
        locked=int(r[5]),
        purchased_total=int(r[6]),
    )

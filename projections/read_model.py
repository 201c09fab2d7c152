"""What a read model is: named tables, fed one event at a time inside the follower's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from ..adapters.sql import Tx


class ReadModel(Protocol):
    """A projection of one application's events into tables of the shared database."""

    name: str  # unique; the key of its tracking row
    application: str  # the eventsourcing application whose notification log it follows

    def create_tables(self, tx: Tx, dialect: str) -> None: ...

    def drop_tables(self, tx: Tx) -> None: ...

    def apply(self, tx: Tx, event: Any, position: int) -> None:
        """Apply one stored domain event (``position`` is its notification id)."""
        ...


def timestamp_type(dialect: str) -> str:
    """Times are TIMESTAMPTZ on PostgreSQL and sortable UTC ISO text on SQLite."""
    return "TIMESTAMPTZ" if dialect == "postgres" else "TEXT"


def db_time(value: datetime, dialect: str) -> Any:
    """A time as the database stores it (see ``timestamp_type``)."""
    if dialect == "postgres":
        return value
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def maybe_db_time(value: Any) -> datetime | None:
    """A nullable timestamp column's value as an aware datetime, or None."""
    return from_db_time(value) if value else None


def add_column(tx: Tx, table: str, column: str, ddl: str) -> None:
    """Add a column a newer read model has to a table an older one made (rebuilding works
    too; this saves it). PostgreSQL says IF NOT EXISTS; SQLite is asked what it has."""
    if tx.dialect == "postgres":
        tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {ddl}")
        return
    present = {row[1] for row in tx.execute(f"PRAGMA table_info({table})")}
    if column not in present:
        tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")

"""What a read model is: named tables, fed a batch of events inside the follower's transaction
(one event at a time, unless it reads and writes a batch's rows together: ``EachEvent``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from ..adapters.sql import Tx
from ..commands.ports import Notified


class ReadModel(Protocol):
    """A projection of one application's events into tables of the shared database."""

    name: str  # unique; the key of its tracking row
    application: str  # the eventsourcing application whose notification log it follows

    def create_tables(self, tx: Tx, dialect: str) -> None: ...

    def drop_tables(self, tx: Tx) -> None: ...

    def apply_batch(self, tx: Tx, batch: Sequence[Notified]) -> None:
        """Apply stored domain events in order (each ``position`` is its notification id)."""
        ...


class EachEvent:
    """A read model's ``apply_batch`` as its ``apply`` of each event in turn."""

    def apply(self, tx: Tx, event: Any, position: int) -> None:
        raise NotImplementedError

    def apply_batch(self, tx: Tx, batch: Sequence[Notified]) -> None:
        for item in batch:
            self.apply(tx, item.event, item.position)


class Statements:
    """A batch's writes in order, consecutive runs of one statement sent together
    (``executemany``, pipelined on PostgreSQL): for read models that never read back."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self._sql = ""
        self._rows: list[Sequence[Any]] = []

    def add(self, sql: str, params: Sequence[Any]) -> None:
        if sql != self._sql:
            self.flush()
            self._sql = sql
        self._rows.append(params)

    def flush(self) -> None:
        if self._rows:
            self.tx.executemany(self._sql, self._rows)
            self._rows = []


class EachWrite:
    """A read model whose every event makes at most one write and that never reads back:
    ``apply_batch`` sends a batch's writes in runs of one statement (``Statements``)."""

    def statement(self, event: Any, dialect: str) -> tuple[str, Sequence[Any]] | None:
        """The write ``event`` makes (SQL and its parameters), or None."""
        raise NotImplementedError

    def apply_batch(self, tx: Tx, batch: Sequence[Notified]) -> None:
        writes = Statements(tx)
        for item in batch:
            write = self.statement(item.event, tx.dialect)
            if write is not None:
                writes.add(*write)
        writes.flush()


CHUNK = 900  # values per IN (...) on SQLite, under its limit of bound parameters


def select_in(tx: Tx, sql: str, values: Iterable[object], tail: str = "") -> list[tuple[Any, ...]]:
    """``sql`` ends in ``WHERE … column``: the rows whose column is one of ``values`` (then
    ``tail``), in one query on PostgreSQL and in chunks on SQLite."""
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return []
    if tx.dialect == "postgres":
        return tx.execute(f"{sql} = ANY(%s) {tail}", (wanted,))
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows += tx.execute(f"{sql} IN ({', '.join(['%s'] * len(chunk))}) {tail}", chunk)
    return rows


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

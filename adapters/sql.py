"""A small SQL port over SQLite and PostgreSQL, for read models and idempotency records.

SQL is written once with ``%s`` placeholders and ANSI upserts; the SQLite adapter rewrites
the placeholders. Both adapters share the event store's database, as the design card asks.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg_pool import ConnectionPool

Row = tuple[Any, ...]


class Tx(Protocol):
    """One open transaction."""

    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement; returns its rows (empty for statements without rows)."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        ...


class SqlDatabase(Protocol):
    dialect: str

    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction: commit on leaving normally, roll back on an exception."""
        ...

    def reading(self) -> AbstractContextManager[Tx]:
        """A read-only snapshot; takes no write lock."""
        ...

    def close(self) -> None: ...


class _SqliteTx:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._cur = conn.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cur.execute(sql.replace("%s", "?"), tuple(params))
        return [tuple(r) for r in self._cur.fetchall()] if self._cur.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(sql.replace("%s", "?"), [tuple(r) for r in rows])

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


class SqliteDatabase:
    """One connection per thread, WAL journal, writers wait for each other (busy timeout)."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _SqliteTx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield _SqliteTx(conn)
        finally:
            conn.execute("ROLLBACK")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class _PostgresTx:
    dialect = "postgres"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._cur = conn.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cur.execute(sql, tuple(params))
        return [tuple(r) for r in self._cur.fetchall()] if self._cur.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(sql, [tuple(r) for r in rows])

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


class PostgresDatabase:
    """A small psycopg pool with deadlines: the wait for a connection and libpq's connect
    (``timeout`` seconds), and every statement (no silent hangs during an outage)."""

    dialect = "postgres"

    def __init__(
        self,
        conninfo: str,
        max_size: int = 4,
        statement_timeout_ms: int = 30000,
        timeout: float = 5.0,
    ):
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            kwargs={
                "options": f"-c statement_timeout={statement_timeout_ms}",
                "connect_timeout": max(1, round(timeout)),
            },
            open=True,
            timeout=timeout,
        )

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.pool.connection() as conn, conn.transaction():
            yield _PostgresTx(conn)

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        with self.pool.connection() as conn:
            conn.read_only = True
            try:
                with conn.transaction():
                    yield _PostgresTx(conn)
            finally:
                conn.read_only = False

    def close(self) -> None:
        self.pool.close()


def probe(url: str, timeout: float) -> float:
    """Open a fresh connection to ``url`` and run ``SELECT 1`` within ``timeout`` seconds;
    returns how long it took. Raises when the database cannot answer (health checks: a pool
    could hide an outage behind a connection it still holds, or wait for one far longer)."""
    started = time.monotonic()
    if url.startswith("sqlite:///"):
        lite = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=timeout)
        try:
            lite.execute("SELECT 1").fetchall()
        finally:
            lite.close()
    else:
        with psycopg.connect(
            url.replace("postgres://", "postgresql://", 1),
            connect_timeout=max(1, round(timeout)),
            options=f"-c statement_timeout={round(timeout * 1000)}",
            autocommit=True,
        ) as conn:
            conn.execute("SELECT 1").fetchall()
    return time.monotonic() - started

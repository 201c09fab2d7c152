"""Creating every table, once, at start-up: the event stores' and everything else's.

The applications are built without creating their tables (``CREATE_TABLE=no``); this module
creates them all, with the read models', tracking rows and the stores' own, under a
PostgreSQL advisory lock: two processes starting at once otherwise fail with
``tuple concurrently updated``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import psycopg
from eventsourcing.application import Application

from .settings import Settings

SCHEMA_LOCK_KEY = 727_274_001  # pg_advisory_lock key serialising table creation


class HasTables(Protocol):
    def create_tables(self) -> None: ...


def create_schema(
    settings: Settings, applications: Sequence[Application[Any]], stores: Sequence[HasTables]
) -> None:
    """Every table the service needs, created if missing (safe to run again)."""
    with schema_lock(settings):
        for app in applications:
            app.recorder.create_table()  # type: ignore[attr-defined]
            if app.snapshots is not None:
                app.snapshots.recorder.create_table()  # type: ignore[attr-defined]
        for store in stores:
            store.create_tables()


@contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """Two processes creating tables at once can fail on PostgreSQL: take turns."""
    if not settings.is_postgres:
        yield
        return
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))

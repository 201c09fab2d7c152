"""The eventsourcing PostgreSQL store, with deadlines on every connection and the table lock
held only inside the database.

Deadlines: eventsourcing 9.5 waits for a pooled connection up to ``POSTGRES_CONNECT_TIMEOUT``
but gives libpq no connect timeout and sets no statement timeout, so against a database that
stopped answering a save could hang for as long as the outage (seen: 29 s). This factory adds
both to the pool's connection arguments, so every call fails within a few seconds instead, and
the API can say 503 and the background loops can back off.

The lock: every save of an application takes its events table's EXCLUSIVE lock until commit,
so notification ids are committed in order and a reader of the log never skips one. The
library sends the lock, the insert and the commit as a pipeline with two waits for the
database between them, and the lock is held across both. In a busy process the thread
then waits for the GIL before it sends the commit (up to the 5 ms switch interval, each
time), and every other save of the application waits behind it: measured, a group commit of
six verification codes took 14 ms, almost all of it waiting for that lock. Here a save is one
statement, a function that locks, notifies, inserts and returns the ids, on an autocommit
connection: the lock is taken and released by the database in one round trip, with the same
ordering guarantee. (The library's own ``POSTGRES_ENABLE_DB_FUNCTIONS`` is one statement too,
but takes no lock: docs/architecture.md.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment, retry
from psycopg.sql import SQL, Identifier

CLIENT_CONNECT_TIMEOUT = "SMSPLAT_CONNECT_TIMEOUT"  # seconds, for libpq's connect
STATEMENT_TIMEOUT = "SMSPLAT_STATEMENT_TIMEOUT_MS"  # milliseconds, per statement


class LockedInsertRecorder(PostgresApplicationRecorder):
    """Inserts an application's events in one statement that holds the table lock."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.insert_function = f"smsplat_insert_{self.events_table_name}"
        self.check_identifier_length(self.insert_function)
        names = {
            "schema": Identifier(self.datastore.schema),
            "function": Identifier(self.insert_function),
            "table": Identifier(self.events_table_name),
            "event": Identifier(self.stored_event_type_name),
            "channel": Identifier(self.channel_name),
        }
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} AS t "
                "(originator_id, originator_version, topic, state) "
                "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
                "RETURNING notification_id; "
                "END; $BODY$"
            ).format(lock_timeout=self.datastore.lock_timeout, **names)
        )
        self.select_events_of_statement = SQL(
            "SELECT * FROM {schema}.{table} WHERE originator_id = ANY(%s) "
            "ORDER BY originator_id, originator_version"
        ).format(**names)
        self.invoke_insert_function = SQL(
            "SELECT notification_id FROM {schema}.{function}(%s) AS notification_id"
        ).format(**names)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events or any(v is not None for v in kwargs.values()):
            # a tracking record to write with them (never here: see log_follower.py)
            inserted: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return inserted
        events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic,
                                           e.state)
            for e in stored_events
        ]  # fmt: skip
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.invoke_insert_function, (events,), prepare=True)
            return [int(row["notification_id"]) for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_of(self, originator_ids: Sequence[UUID]) -> Sequence[StoredEvent]:
        """Every event of those aggregates, in one query (``commands.ports.EventsOfMany``)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_events_of_statement, (list(originator_ids),), prepare=True)
            return [
                StoredEvent(row["originator_id"], row["originator_version"], row["topic"],
                            bytes(row["state"]))
                for row in curs.fetchall()
            ]  # fmt: skip


class DeadlinedPostgresFactory(PostgresFactory):
    application_recorder_class = LockedInsertRecorder

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        connect = int(float(env.get(CLIENT_CONNECT_TIMEOUT) or 3))
        statement = int(env.get(STATEMENT_TIMEOUT) or 30_000)
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict)  # the library passes its connection arguments so
        kwargs.update(connect_timeout=max(1, connect), options=f"-c statement_timeout={statement}")

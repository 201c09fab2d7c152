"""SQLite event store with one table per application, as on PostgreSQL.

eventsourcing 9.5's ``SQLiteFactory`` names every application's table ``stored_events``, so
two applications in one file would share one table and one notification log (and one
application's followers would read the other's events). This factory names the tables after
the application (``quota_events``, ``quota_snapshots``), like the PostgreSQL factory does.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteFactory

CHUNK = 900  # ids per IN (...), under SQLite's limit of bound parameters


class ManyAggregatesRecorder(SQLiteApplicationRecorder):
    def select_events_of(self, originator_ids: Sequence[UUID]) -> Sequence[StoredEvent]:
        """Every event of those aggregates, a query per 900 (``commands.ports.EventsOfMany``)."""
        ids = [i.hex for i in originator_ids]
        found: list[StoredEvent] = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            statement = (
                f"SELECT * FROM {self.events_table_name} WHERE originator_id IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY originator_id, originator_version"
            )
            with self.datastore.transaction(commit=False) as c:
                c.execute(statement, chunk)
                found += [
                    StoredEvent(self.convert_originator_id(row["originator_id"]),
                                row["originator_version"], row["topic"], row["state"])
                    for row in c.fetchall()
                ]  # fmt: skip
        return found


class PerApplicationSQLiteFactory(SQLiteFactory):
    application_recorder_class = ManyAggregatesRecorder

    def _table(self, purpose: str) -> str:
        return f"{self.env.name.lower() or 'stored'}_{purpose}"

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        recorder = self.aggregate_recorder_class(
            datastore=self.datastore, events_table_name=self._table(purpose)
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder

    def application_recorder(self) -> ApplicationRecorder:
        recorder = self.application_recorder_class(
            datastore=self.datastore, events_table_name=self._table("events")
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder

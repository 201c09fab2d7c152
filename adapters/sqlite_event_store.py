"""SQLite event store with one table per application, as on PostgreSQL.

eventsourcing 9.5's ``SQLiteFactory`` names every application's table ``stored_events``, so
two applications in one file would share one table and one notification log (and one
application's followers would read the other's events). This factory names the tables after
the application (``quota_events``, ``quota_snapshots``), like the PostgreSQL factory does.
"""

from __future__ import annotations

from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder
from eventsourcing.sqlite import SQLiteFactory


class PerApplicationSQLiteFactory(SQLiteFactory):
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

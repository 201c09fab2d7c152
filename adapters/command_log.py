"""The outcome of every upstream command, by ``command_id``, in the shared database
(``commands.upstream.CommandLog``): so a command delivered twice is answered the same."""

from __future__ import annotations

import json
from typing import Any

from .sql import SqlDatabase


class SqlCommandLog:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def create_tables(self) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS command_outcomes ("
                "command_id TEXT PRIMARY KEY, outcome TEXT NOT NULL)"
            )

    def outcome_of(self, command_id: str) -> dict[str, Any] | None:
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT outcome FROM command_outcomes WHERE command_id = %s", (command_id,)
            )
        return _decoded(rows[0][0]) if rows else None

    def record(self, command_id: str, outcome: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO command_outcomes (command_id, outcome) VALUES (%s, %s) "
                "ON CONFLICT (command_id) DO NOTHING",
                (command_id, json.dumps(outcome, ensure_ascii=False, default=str)),
            )
            rows = tx.execute(
                "SELECT outcome FROM command_outcomes WHERE command_id = %s", (command_id,)
            )
        return _decoded(rows[0][0])


def _decoded(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value

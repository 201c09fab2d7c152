"""The outcome of every upstream command, by ``command_id``, in the shared database
(``commands.upstream.CommandLog``): so a command delivered twice is answered the same."""

from __future__ import annotations

import json
from collections.abc import Sequence
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

    def record_all(self, outcomes: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """``record`` of each, in one transaction; the kept outcomes, in order."""
        with self.db.transaction() as tx:
            tx.executemany(
                "INSERT INTO command_outcomes (command_id, outcome) VALUES (%s, %s) "
                "ON CONFLICT (command_id) DO NOTHING",
                [(cid, json.dumps(o, ensure_ascii=False, default=str)) for cid, o in outcomes],
            )
            ids = [cid for cid, _ in outcomes]
            marks = ", ".join(["%s"] * len(ids))
            rows = tx.execute(
                f"SELECT command_id, outcome FROM command_outcomes WHERE command_id IN ({marks})",
                ids,
            )
        kept = {str(r[0]): _decoded(r[1]) for r in rows}
        return [kept[cid] for cid in ids]


def _decoded(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value

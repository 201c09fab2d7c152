"""The template read model: each account's template list (T7: a deleted template leaves it)
and, from the same table, the operator's review queue (T5: pending templates, oldest first,
each with its due time)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters.sql import SqlDatabase, Tx
from ..domain.templates import Template, TemplateStatus
from .read_model import EachEvent, db_time, from_db_time, timestamp_type

COLUMNS = (
    "template_id, account_id, type, kind, scenario, signature, content, status, reasons, "
    "flags, review_due_at, version, submitted_at, updated_at"
)


class TemplateListReadModel(EachEvent):
    name = "templates"
    application = "templates"
    table = "template_list"

    def create_tables(self, tx: Tx, dialect: str) -> None:
        ts = timestamp_type(dialect)
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS {self.table} (
                template_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, type TEXT NOT NULL,
                kind TEXT, scenario TEXT, signature TEXT NOT NULL, content TEXT NOT NULL,
                status TEXT NOT NULL, reasons TEXT NOT NULL, flags TEXT NOT NULL,
                review_due_at {ts}, version INTEGER NOT NULL,
                submitted_at {ts} NOT NULL, updated_at {ts} NOT NULL)"""
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {self.table}_account "
            f"ON {self.table} (account_id, submitted_at)"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {self.table}_queue ON {self.table} (status, submitted_at)"
        )

    def drop_tables(self, tx: Tx) -> None:
        tx.execute(f"DROP TABLE IF EXISTS {self.table}")

    def apply(self, tx: Tx, event: Any, position: int) -> None:
        template_id = str(event.originator_id)
        at = db_time(event.timestamp, tx.dialect)
        if isinstance(event, Template.Submitted):
            tx.execute(
                f"INSERT INTO {self.table} ({COLUMNS}) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, '[]', '[]', %s, 1, %s, %s)",
                (
                    template_id, event.account_id, event.type, event.kind, event.scenario,
                    event.signature, event.content, TemplateStatus.PENDING_REVIEW.value,
                    db_time(event.review_due_at, tx.dialect), at, at,
                ),
            )  # fmt: skip
        elif isinstance(event, Template.PreScreened):
            if event.refused:
                self._set(tx, template_id, at, status=TemplateStatus.REJECTED.value,
                          review_due_at=None, reasons=json.dumps(event.reasons))  # fmt: skip
            self._set(tx, template_id, at, flags=json.dumps(event.flags))
        elif isinstance(event, Template.Approved):
            self._set(tx, template_id, at, status=TemplateStatus.APPROVED.value, review_due_at=None)
        elif isinstance(event, Template.Rejected):
            reasons = [{"code": "rejected_by_reviewer", "message": event.reason}]
            self._set(tx, template_id, at, status=TemplateStatus.REJECTED.value,
                      review_due_at=None, reasons=json.dumps(reasons))  # fmt: skip
        elif isinstance(event, Template.Resubmitted):
            tx.execute(
                f"UPDATE {self.table} SET signature = %s, content = %s, status = %s, "
                "reasons = '[]', flags = '[]', review_due_at = %s, version = version + 1, "
                "submitted_at = %s, updated_at = %s WHERE template_id = %s",
                (
                    event.signature, event.content, TemplateStatus.PENDING_REVIEW.value,
                    db_time(event.review_due_at, tx.dialect), at, at, template_id,
                ),
            )  # fmt: skip
        elif isinstance(event, Template.Deleted):
            tx.execute(f"DELETE FROM {self.table} WHERE template_id = %s", (template_id,))

    def _set(self, tx: Tx, template_id: str, at: object, **values: object) -> None:
        assignments = ", ".join(f"{column} = %s" for column in values)
        tx.execute(
            f"UPDATE {self.table} SET {assignments}, updated_at = %s WHERE template_id = %s",
            (*values.values(), at, template_id),
        )


@dataclass(frozen=True)
class TemplateRow:
    template_id: str
    account_id: str
    type: str
    kind: str | None
    scenario: str | None
    signature: str
    content: str
    status: str
    reasons: list[dict[str, str]]
    flags: list[dict[str, str]]
    review_due_at: datetime | None
    version: int
    submitted_at: datetime
    updated_at: datetime


class TemplateQueries:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def for_account(
        self, account_id: str, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[TemplateRow]:
        """The account's templates, newest first; deleted ones are not there (T7)."""
        sql = f"SELECT {COLUMNS} FROM template_list WHERE account_id = %s"
        params: list[object] = [account_id]
        if status:
            sql += " AND status = %s"
            params.append(status)
        sql += " ORDER BY submitted_at DESC, template_id LIMIT %s OFFSET %s"
        return self._rows(sql, [*params, limit, offset])

    def review_queue(self, limit: int = 100, offset: int = 0) -> list[TemplateRow]:
        """Templates waiting for a reviewer, oldest first (T5)."""
        return self._rows(
            f"SELECT {COLUMNS} FROM template_list WHERE status = %s "
            "ORDER BY submitted_at, template_id LIMIT %s OFFSET %s",
            [TemplateStatus.PENDING_REVIEW.value, limit, offset],
        )

    def _rows(self, sql: str, params: list[object]) -> list[TemplateRow]:
        with self.db.reading() as tx:
            rows = tx.execute(sql, params)
        return [
            TemplateRow(
                template_id=r[0], account_id=r[1], type=r[2], kind=r[3], scenario=r[4],
                signature=r[5], content=r[6], status=r[7], reasons=json.loads(r[8]),
                flags=json.loads(r[9]),
                review_due_at=from_db_time(r[10]) if r[10] is not None else None,
                version=int(r[11]), submitted_at=from_db_time(r[12]),
                updated_at=from_db_time(r[13]),
            )
            for r in rows
        ]  # fmt: skip

"""Alerts raised for an account, newest first (Q9 low balance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters.sql import SqlDatabase, Tx
from ..domain.quota import QuotaPool
from .read_model import EachEvent, db_time, from_db_time, timestamp_type


class AlertsReadModel(EachEvent):
    name = "alerts"
    application = "quota"

    def create_tables(self, tx: Tx, dialect: str) -> None:
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS account_alerts (
                alert_id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                at {timestamp_type(dialect)} NOT NULL,
                phone TEXT NOT NULL,
                available BIGINT,
                message_id TEXT,
                position BIGINT NOT NULL)"""
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS account_alerts_account ON account_alerts "
            "(account_id, position)"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS alert_pools (pool_id TEXT PRIMARY KEY, "
            "account_id TEXT NOT NULL)"
        )

    def drop_tables(self, tx: Tx) -> None:
        tx.execute("DROP TABLE IF EXISTS account_alerts")
        tx.execute("DROP TABLE IF EXISTS alert_pools")

    def apply(self, tx: Tx, event: Any, position: int) -> None:
        if isinstance(event, QuotaPool.Opened):
            tx.execute(
                "INSERT INTO alert_pools (pool_id, account_id) VALUES (%s, %s)",
                (str(event.originator_id), event.account_id),
            )
        elif isinstance(event, QuotaPool.LowBalanceAlerted):
            rows = tx.execute(
                "SELECT account_id FROM alert_pools WHERE pool_id = %s",
                (str(event.originator_id),),
            )
            tx.execute(
                "INSERT INTO account_alerts (alert_id, account_id, kind, at, phone, available, "
                "message_id, position) VALUES (%s, %s, 'low_balance', %s, %s, %s, %s, %s)",
                (
                    event.alert_id,
                    rows[0][0],
                    db_time(event.timestamp, tx.dialect),
                    event.phone,
                    event.available,
                    f"alert.{event.alert_id}",  # the alert SMS the send worker hands over
                    position,
                ),
            )


@dataclass(frozen=True)
class AlertRow:
    alert_id: str
    kind: str
    at: datetime
    phone: str
    available: int | None
    message_id: str | None


class AlertQueries:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def for_account(self, account_id: str, limit: int = 100) -> list[AlertRow]:
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT alert_id, kind, at, phone, available, message_id FROM account_alerts "
                "WHERE account_id = %s ORDER BY position DESC LIMIT %s",
                (account_id, limit),
            )
        return [AlertRow(r[0], r[1], from_db_time(r[2]), r[3], r[4], r[5]) for r in rows]

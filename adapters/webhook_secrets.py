"""Webhook secrets, by endpoint and version (``commands.ports.WebhookSecrets``).

Kept apart from the events, which are published to Kafka and kept forever: a secret must be
stored so that it can still sign (a hash would not do), but only here, and it is never
logged. A version's secret is written once; a second write of the same version keeps the
first (two racing rotations agree on one).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from .sql import SqlDatabase


class SqlWebhookSecrets:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def create_tables(self) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS webhook_secrets (webhook_id TEXT NOT NULL, "
                "version INTEGER NOT NULL, secret TEXT NOT NULL, PRIMARY KEY (webhook_id, version))"
            )

    def keep(self, webhook_id: UUID, version: int, secret: str) -> str:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO webhook_secrets (webhook_id, version, secret) VALUES (%s, %s, %s) "
                "ON CONFLICT (webhook_id, version) DO NOTHING",
                (str(webhook_id), version, secret),
            )
            rows = tx.execute(
                "SELECT secret FROM webhook_secrets WHERE webhook_id = %s AND version = %s",
                (str(webhook_id), version),
            )
        return str(rows[0][0])

    def signing(self, webhook_id: UUID, versions: Sequence[int]) -> list[str]:
        if not versions:
            return []
        marks = ", ".join(["%s"] * len(versions))
        with self.db.reading() as tx:
            rows = tx.execute(
                f"SELECT version, secret FROM webhook_secrets WHERE webhook_id = %s "
                f"AND version IN ({marks})",
                [str(webhook_id), *versions],
            )
        by_version = {int(v): str(s) for v, s in rows}
        return [by_version[v] for v in versions if v in by_version]

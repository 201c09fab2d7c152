"""The webhook outbox on PostgreSQL: a queue table that grows from nearly empty to a send's
deliveries in seconds keeps the planner's statistics true, so ``claim_due`` keeps its plan
(with the statistics of a 5-row table PostgreSQL checked each delivery's order against every
other pending one: 156 s a round for 20,000, found by the webhook benchmark)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from smsplat.adapters.sql import PostgresDatabase
from smsplat.adapters.webhook_outbox import SqlDeliveryOutbox
from smsplat.commands.ports import NewDelivery

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
LOG = "webhook_outbox"


def deliveries(webhook: UUID, first: int, count: int) -> list[NewDelivery]:
    return [NewDelivery(f"msg_{uuid4().hex}", webhook, "acc", "message.status",
                        f"send.{n}", n, "{}", T0, T0)
            for n in range(first, first + count)]  # fmt: skip


def reltuples(db: PostgresDatabase) -> float:
    with db.reading() as tx:
        rows = tx.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'webhook_deliveries'::regclass"
        )
    return float(rows[0][0])


def test_a_fast_growing_outbox_keeps_its_statistics_true(pg_url: str) -> None:
    db = PostgresDatabase(pg_url)
    try:
        outbox = SqlDeliveryOutbox(db)
        outbox.create_tables()
        outbox.ensure_tracking(LOG, "quota")
        webhook = uuid4()
        assert outbox.enqueue(LOG, 0, 1, deliveries(webhook, 0, 5))
        with db.transaction() as tx:  # autovacuum saw it nearly empty
            tx.execute("ANALYZE webhook_deliveries")
        assert reltuples(db) == 5
        position = 1
        for first in range(5, 3005, 200):  # the outbox takes in a send's events
            assert outbox.enqueue(LOG, position, position + 1, deliveries(webhook, first, 200))
            position += 1
        assert reltuples(db) >= 2000
        assert len(outbox.claim_due(T0, T0, 200)) == 200  # each its own key: all due
    finally:
        db.close()

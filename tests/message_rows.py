"""Many messages written straight into the sends read model (``projections/sends.py``), for
the export memory test and benchmark: a million rows in seconds, with no events behind them."""

from __future__ import annotations

import uuid

import psycopg
from smsplat.adapters.sql import PostgresDatabase
from smsplat.projections.sends import SendsReadModel

PER_SEND = 10_000  # a mass send's most recipients (S2)
STATUS_OF = "(ARRAY['success','success','success','failed','unknown','sending'])[g %% 6 + 1]"


def insert_messages(url: str, account_id: str, count: int, template_id: str) -> list[str]:
    """``count`` messages of ``account_id`` in sends of up to 10,000, one a minute from
    2026-03-02 09:00 Beijing, statuses mixed; the sends' ids, oldest first.

    The messages' secondary indexes are dropped for the insert and made again after by the
    read model itself (``create_tables``: the same definitions), which is several times
    faster than keeping them up to date row by row; so is the daily table of their figures,
    from the sends' counts."""
    sends = [str(uuid.uuid4()) for _ in range((count + PER_SEND - 1) // PER_SEND)]
    with psycopg.connect(url, autocommit=True) as conn:
        for (index,) in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'messages' "
            "AND indexname <> 'messages_pkey'"
        ).fetchall():
            conn.execute(f'DROP INDEX "{index}"')
        conn.execute(
            "INSERT INTO sends (send_id, account_id, template_id, type, kind, product, status, "
            "total, units_per_message, units_charged, units_refunded, pending, sending, "
            "success, failed, unknown, text, created_at) "
            "SELECT s, %s, %s, 'mass', 'notice', 'site', 'completed', %s, 1, %s, 0, 0, 0, 0, "
            "0, 0, '【花店】会员日到店有礼。', "
            "TIMESTAMPTZ '2026-03-02 09:00:00+08' + (n - 1) * INTERVAL '1 minute' "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(s, n)",
            (account_id, template_id, PER_SEND, PER_SEND, sends),
        )
        conn.execute(
            "INSERT INTO messages (message_id, send_id, idx, account_id, phone, status, units, "
            "product, reason, carrier_message_id, day, created_at, submitted_at, final_at, "
            "planned_units) "
            "SELECT sid || '.' || (g %% %s), sid, g %% %s, %s, "
            "'139' || lpad((g %% 100000000)::text, 8, '0'), st, 1, 'site', "
            "CASE st WHEN 'failed' THEN 'delivery_failed' WHEN 'unknown' THEN "
            "'no_receipt_in_72h' END, md5(g::text), '2026-03-02', at, "
            "at + INTERVAL '2 seconds', "
            "CASE WHEN st <> 'sending' THEN at + INTERVAL '5 seconds' END, 1 "
            "FROM (SELECT g, (%s::text[])[g / %s + 1] AS sid, "
            f"{STATUS_OF} AS st, "
            "TIMESTAMPTZ '2026-03-02 09:00:00+08' + (g / %s) * INTERVAL '1 minute' AS at "
            "FROM generate_series(0, %s - 1) AS g) AS rows",
            (PER_SEND, PER_SEND, account_id, sends, PER_SEND, PER_SEND, count),
        )
        conn.execute(
            "UPDATE sends SET pending = c.pending, sending = c.sending, success = c.success, "
            "failed = c.failed, unknown = c.unknown, units_charged = c.units, "
            "units_refunded = c.refunded FROM (SELECT send_id, "
            "COUNT(*) FILTER (WHERE status = 'pending') AS pending, "
            "COUNT(*) FILTER (WHERE status = 'sending') AS sending, "
            "COUNT(*) FILTER (WHERE status = 'success') AS success, "
            "COUNT(*) FILTER (WHERE status = 'failed') AS failed, "
            "COUNT(*) FILTER (WHERE status = 'unknown') AS unknown, SUM(units) AS units, "
            "COALESCE(SUM(units) FILTER (WHERE status = 'failed'), 0) AS refunded "
            "FROM messages WHERE account_id = %s GROUP BY send_id) AS c "
            "WHERE sends.send_id = c.send_id",
            (account_id,),
        )
        conn.execute("DROP TABLE IF EXISTS message_daily")  # made again from the sends, below
    _make_indexes(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE sends")
        conn.execute("ANALYZE messages")
    return sends


def _make_indexes(url: str) -> None:
    db = PostgresDatabase(url, max_size=1, statement_timeout_ms=0)
    try:
        with db.transaction() as tx:
            tx.execute("SET LOCAL maintenance_work_mem = '256MB'")
            SendsReadModel().create_tables(tx, "postgres")
    finally:
        db.close()

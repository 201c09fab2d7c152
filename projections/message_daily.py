"""An account's message figures per Beijing day, template and product: a small table the sends
read model keeps in the same transaction as the sends it sums, so statistics over whole days
read a row per day, template and product instead of grouping millions of messages.

Each figure is the sum over the day's sends of that send's own figures in ``sends`` (its
messages by status, the units charged and refunded): each batch of events adds the change of
its sends' figures (``send_rows.py``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ..adapters.sql import Tx
from .message_counts import table_exists

BEIJING = ZoneInfo("Asia/Shanghai")
FIGURES = ("pending", "sending", "success", "failed", "unknown", "units_charged", "units_refunded")
NONE = ""  # the product of a send for none (a key column cannot be NULL)


def create_table(tx: Tx) -> None:
    """The daily table; made from the sends already there when it is new beside them (a
    database of a version before it: one GROUP BY, once)."""
    new = not table_exists(tx, "message_daily")
    columns = ", ".join(f"{f} BIGINT NOT NULL" for f in FIGURES)
    tx.execute(
        f"""CREATE TABLE IF NOT EXISTS message_daily (
            account_id TEXT NOT NULL, day TEXT NOT NULL, template_id TEXT NOT NULL,
            product TEXT NOT NULL, {columns},
            PRIMARY KEY (account_id, day, template_id, product))"""
    )
    if new:
        day = (
            "to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"
            if tx.dialect == "postgres"
            else "date(created_at, '+8 hours')"
        )
        sums = ", ".join(f"SUM({f})" for f in FIGURES)
        tx.execute(
            f"INSERT INTO message_daily (account_id, day, template_id, product, "
            f"{', '.join(FIGURES)}) SELECT account_id, {day}, template_id, COALESCE(product, ''), "
            f"{sums} FROM sends GROUP BY account_id, {day}, template_id, COALESCE(product, '')"
        )


def drop_table(tx: Tx) -> None:
    tx.execute("DROP TABLE IF EXISTS message_daily")

"""An account's message figures per Beijing day, template and product: a small table the sends
read model keeps in the same transaction as the sends it sums, so statistics over whole days
read a row per day, template and product instead of grouping millions of messages.

Each figure is the sum over the day's sends of that send's own figures in ``sends`` (its
messages by status, the units charged and refunded, recounted from its messages after every
event): every event of a send adds the change of its figures (``SendFigures.change``).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..adapters.sql import Tx
from .message_counts import table_exists
from .read_model import from_db_time

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


@dataclass(frozen=True)
class SendFigures:
    """One send's row of ``message_daily``'s key and figures, as ``sends`` has it now."""

    key: tuple[str, str, str, str]  # (account_id, day, template_id, product)
    figures: tuple[int, ...]  # in FIGURES order

    @classmethod
    def of(cls, tx: Tx, send_id: str) -> SendFigures | None:
        rows = tx.execute(
            f"SELECT account_id, created_at, template_id, product, {', '.join(FIGURES)} "
            "FROM sends WHERE send_id = %s",
            (send_id,),
        )
        if not rows:
            return None
        account_id, created_at, template_id, product, *figures = rows[0]
        day = from_db_time(created_at).astimezone(BEIJING).date().isoformat()
        key = (str(account_id), day, str(template_id), str(product or NONE))
        return cls(key, tuple(int(f) for f in figures))

    @staticmethod
    def change(tx: Tx, before: SendFigures | None, after: SendFigures | None) -> None:
        """Add what one event changed of a send's figures to its day's row."""
        known = after or before
        if known is None:
            return
        old = before.figures if before else (0,) * len(FIGURES)
        new = after.figures if after else (0,) * len(FIGURES)
        delta = tuple(n - o for n, o in zip(new, old, strict=True))
        if not any(delta):
            return
        updates = ", ".join(f"{f} = message_daily.{f} + excluded.{f}" for f in FIGURES)
        tx.execute(
            f"INSERT INTO message_daily (account_id, day, template_id, product, "
            f"{', '.join(FIGURES)}) VALUES (%s, %s, %s, %s, {', '.join(['%s'] * len(FIGURES))}) "
            f"ON CONFLICT (account_id, day, template_id, product) DO UPDATE SET {updates}",
            (*known.key, *delta),
        )

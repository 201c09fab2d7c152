"""An account's delivery statistics over a time range, grouped by Beijing day, template or
product, read from the ``messages`` table of ``sends.py``.

The figures are counted exactly as the dashboard (``SendQueries.dashboard``) counts them, so
the two agree on the same messages:

- ``sent`` is every message the account's sends asked for and did not cancel (a cancelled
  send's rows are gone), whatever its status: ``pending`` (accepted, not yet handed to the
  carrier: a scheduled send or one still in its batches), ``sending`` (handed over, no receipt
  yet, S10), ``success``, ``failed`` (refused at submission, a failed receipt, or skipped:
  opted out, over a recipient limit) and ``unknown`` (no receipt 72 hours after submission,
  Q8). So ``sent = pending + sending + success + failed + unknown``.
- ``units_charged`` is the units of those messages (a waiting send's messages hold a lock, not
  a charge, so they count 0 until submission, Q5; a skipped message costs 0);
  ``units_refunded`` the units of the failed ones (each refunded, Q7). Unknown messages stay
  charged (Q8).
- ``success_rate = success / (success + failed + unknown)``: of the messages whose outcome is
  settled, the share delivered; ``None`` while none is settled. Messages still pending or
  sending are left out, since their outcome is not known yet.

A message belongs to the Beijing day, template and product of its send's acceptance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from ..adapters.sql import SqlDatabase
from . import message_daily
from .message_daily import BEIJING
from .read_model import db_time
from .send_queries import STATUSES

GROUPINGS = {"day": "m.day", "template": "s.template_id", "product": "m.product"}
DAILY_GROUPINGS = {"day": "day", "template": "template_id", "product": "product"}
NO_PRODUCT = "none"  # the group of messages sent for no product (as the dashboard names it)


@dataclass(frozen=True)
class Figures:
    counts: dict[str, int]  # messages by status (STATUSES)
    units_charged: int
    units_refunded: int

    @property
    def sent(self) -> int:
        return sum(self.counts.values())

    @property
    def success_rate(self) -> float | None:
        settled = self.counts["success"] + self.counts["failed"] + self.counts["unknown"]
        return round(self.counts["success"] / settled, 4) if settled else None


@dataclass(frozen=True)
class Statistics:
    groups: list[tuple[str, Figures]]  # in key order
    totals: Figures


class MessageStatistics:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def of(
        self, account_id: str, group_by: str, start: datetime | None, end: datetime | None
    ) -> Statistics:
        """The account's figures for messages created in [start, end), by ``group_by``
        (a key of ``GROUPINGS``): from the daily table when the range is whole Beijing days
        (or open), else counted from the messages."""
        first = date.min if start is None else _midnight_day(start)
        after = None if end is None else _midnight_day(end)
        last = date.max if end is None else after and after - timedelta(days=1)
        if first is not None and last is not None:
            return self.daily(account_id, group_by, first, last)
        return self.counted(account_id, group_by, start, end)

    def counted(
        self, account_id: str, group_by: str, start: datetime | None, end: datetime | None
    ) -> Statistics:
        """``of``, counted from the messages themselves (any range; a scan of its messages)."""
        column = GROUPINGS[group_by]
        sql = (
            f"SELECT {column}, m.status, COUNT(*), COALESCE(SUM(m.units), 0) FROM messages m "
            "JOIN sends s ON s.send_id = m.send_id WHERE m.account_id = %s"
        )
        params: list[object] = [account_id]
        if start is not None:
            sql += " AND m.created_at >= %s"
            params.append(db_time(start, self.db.dialect))
        if end is not None:
            sql += " AND m.created_at < %s"
            params.append(db_time(end, self.db.dialect))
        sql += f" GROUP BY {column}, m.status"
        with self.db.reading() as tx:
            rows = tx.execute(sql, params)
        return _tally(rows)

    def daily(self, account_id: str, group_by: str, first: date, last: date) -> Statistics:
        """The account's figures for the Beijing days ``first`` to ``last`` (both included), by
        ``group_by``: the same figures as ``MessageStatistics.of`` over those days' instants, read
        from ``message_daily`` (a row per day, template and product, whatever the messages)."""
        column = DAILY_GROUPINGS[group_by]
        sums = ", ".join(f"SUM({f})" for f in message_daily.FIGURES)
        with self.db.reading() as tx:
            rows = tx.execute(
                f"SELECT {column}, {sums} FROM message_daily WHERE account_id = %s "
                f"AND day >= %s AND day <= %s GROUP BY {column}",
                (account_id, first.isoformat(), last.isoformat()),
            )
        groups = []
        for key, *figures in rows:
            counts = dict(zip(STATUSES, (int(f) for f in figures[:5]), strict=True))
            if any(counts.values()):  # a cancelled send's day keeps a row of zeros
                name = str(key) if key != message_daily.NONE else NO_PRODUCT
                groups.append((name, Figures(counts, int(figures[5]), int(figures[6]))))
        return _with_totals(sorted(groups, key=lambda group: group[0]))


def _midnight_day(bound: datetime) -> date | None:
    """The Beijing day that starts at ``bound``; None when ``bound`` is no Beijing midnight
    (or the first day there is)."""
    local = bound.astimezone(BEIJING)
    return local.date() if local.time() == time() and local.date() > date.min else None


def _tally(rows: list[tuple[Any, ...]]) -> Statistics:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    charged: dict[str, int] = defaultdict(int)
    refunded: dict[str, int] = defaultdict(int)
    for key, status, count, units in rows:
        name = str(key) if key is not None else NO_PRODUCT
        counts[name][str(status)] += int(count)
        charged[name] += int(units)
        refunded[name] += int(units) if status == "failed" else 0
    groups = [(k, Figures(counts[k], charged[k], refunded[k])) for k in sorted(counts)]
    return _with_totals(groups)


def _with_totals(groups: list[tuple[str, Figures]]) -> Statistics:
    total_counts = {s: sum(f.counts[s] for _, f in groups) for s in STATUSES}
    totals = Figures(
        total_counts,
        sum(f.units_charged for _, f in groups),
        sum(f.units_refunded for _, f in groups),
    )
    return Statistics(groups, totals)

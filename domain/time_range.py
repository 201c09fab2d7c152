"""The instants the platform takes: from 2000 to the end of 2099, Beijing time.

Outside that range a time is a mistake (a year typed wrongly, a fuzzer's year 1 or 9999) and
arithmetic on it would overflow; every time a request carries is refused outside it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

BEIJING_OFFSET = timezone(timedelta(hours=8))
EARLIEST = datetime(2000, 1, 1, tzinfo=BEIJING_OFFSET)
LATEST = datetime(2100, 1, 1, tzinfo=BEIJING_OFFSET)  # exclusive


def in_range(value: datetime) -> bool:
    """Whether an aware ``value`` is one the platform takes."""
    return EARLIEST <= value < LATEST


RANGE_TEXT = "between 2000-01-01 and 2099-12-31"

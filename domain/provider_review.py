"""The provider's second review of marketing sends (S8, 二次审核).

*Reading* of S8: the provider reviews 9:00–23:00 Beijing time, every day, and passes a send
30 minutes after it arrives within those hours. A send that arrives after 20:00 (its review
could not finish well before the provider closes, and marketing late in the evening is not
sent) waits for the next morning: reviewed from 9:00, it goes out at 9:30. One that arrives
before 9:00 likewise goes out at 9:30 the same day. A send arrives when it is requested.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .scenarios import MassKind, TemplateType

BEIJING = ZoneInfo("Asia/Shanghai")
OPENS = time(9, 0)
LAST_SAME_DAY = time(20, 0)  # requested after this: next day
CLOSES = time(23, 0)
REVIEW_TAKES = timedelta(minutes=30)


def needs_provider_review(type_: str, kind: str | None) -> bool:
    """Only marketing messages pass the provider's review (S8)."""
    return type_ == TemplateType.MASS and kind == MassKind.MARKETING


def review_passes_at(requested_at: datetime) -> datetime:
    """When the simulated provider passes a marketing send requested at ``requested_at``."""
    local = requested_at.astimezone(BEIJING)
    if local.time() < OPENS:
        start = datetime.combine(local.date(), OPENS, BEIJING)
    elif local.time() > LAST_SAME_DAY:
        start = datetime.combine(local.date() + timedelta(days=1), OPENS, BEIJING)
    else:
        start = local
    return start + REVIEW_TAKES

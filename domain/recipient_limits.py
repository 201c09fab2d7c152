"""Per-recipient limits (S9), counted per phone number across all accounts.

Verification-type messages (the register, reset_password and booking scenarios): at most 10 an
hour and 15 a day to one number; marketing: at most 3 a day. A message over the limit fails
with ``recipient_rate_limited`` (and is refunded, Q7). Other messages have no limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from .scenarios import BusinessKind, MassKind, Scenario, TemplateType

VERIFICATION = "verification"
MARKETING = "marketing"
RATE_LIMITED = "recipient_rate_limited"

HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)
LIMITS: dict[str, tuple[tuple[timedelta, int], ...]] = {
    VERIFICATION: ((HOUR, 10), (DAY, 15)),
    MARKETING: ((DAY, 3),),
}
WINDOWS = (HOUR, DAY)
VERIFICATION_SCENARIOS = {Scenario.REGISTER, Scenario.RESET_PASSWORD, Scenario.BOOKING}


def limit_category(type_: str, kind: str | None, scenario: str | None) -> str | None:
    """Which limits a template's messages count against, if any."""
    if type_ == TemplateType.BUSINESS and scenario in VERIFICATION_SCENARIOS:
        return VERIFICATION
    if type_ == TemplateType.BUSINESS and kind == BusinessKind.VERIFICATION:
        return VERIFICATION  # the account's own verification codes (T1)
    if type_ == TemplateType.MASS and kind == MassKind.MARKETING:
        return MARKETING
    return None


def over_limit(category: str | None, counts: Mapping[timedelta, int]) -> bool:
    """Whether one more message would break a limit, given the messages already let through
    to the number in each window (``counts[HOUR]``, ``counts[DAY]``)."""
    if category is None:
        return False
    return any(counts.get(window, 0) >= most for window, most in LIMITS[category])

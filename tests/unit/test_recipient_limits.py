"""Per-recipient limits (S9): which messages count, and when one more breaks a limit."""

from __future__ import annotations

import pytest
from smsplat.domain.recipient_limits import (
    DAY,
    HOUR,
    MARKETING,
    VERIFICATION,
    limit_category,
    over_limit,
)


@pytest.mark.parametrize(
    ("type_", "kind", "scenario", "category"),
    [
        ("business", None, "register", VERIFICATION),
        ("business", None, "reset_password", VERIFICATION),
        ("business", None, "booking", VERIFICATION),
        ("business", None, "form", None),  # a form notice is not verification-type
        ("mass", "marketing", None, MARKETING),
        ("mass", "notice", None, None),
        ("mass", "custom", None, None),
    ],
)
def test_S9_which_messages_count(
    type_: str, kind: str | None, scenario: str | None, category: str | None
) -> None:
    assert limit_category(type_, kind, scenario) == category


def test_S9_verification_ten_an_hour_fifteen_a_day() -> None:
    assert not over_limit(VERIFICATION, {HOUR: 9, DAY: 9})
    assert over_limit(VERIFICATION, {HOUR: 10, DAY: 10})
    assert not over_limit(VERIFICATION, {HOUR: 0, DAY: 14})
    assert over_limit(VERIFICATION, {HOUR: 0, DAY: 15})


def test_S9_marketing_three_a_day() -> None:
    assert not over_limit(MARKETING, {HOUR: 2, DAY: 2})
    assert over_limit(MARKETING, {HOUR: 0, DAY: 3})


def test_S9_unlimited_messages_are_never_over() -> None:
    assert not over_limit(None, {HOUR: 10_000, DAY: 10_000})

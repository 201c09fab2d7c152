"""When a template's review is due: T5, on the real 2026 Chinese public-holiday calendar.

Follows the *Reading* of T5 in ``domain/review_time.py``: intake 9:00–20:00 Beijing time every
day; received on a working day (make-up working days included) → 2 hours of intake time later,
carrying over past 20:00 to 9:00 the next day; received on a holiday → the same time a day later.
The expected instants are written out by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from smsplat.domain.review_time import is_working_day, received_at, review_due_at

BEIJING = ZoneInfo("Asia/Shanghai")


def bj(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


# -- the calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 2), True),  # Monday
        (date(2026, 3, 6), True),  # Friday
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 8), False),  # Sunday
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 2), False),  # National Day holiday, a Friday
        (date(2026, 10, 10), True),  # make-up working day, a Saturday
        (date(2026, 9, 30), True),  # the working day before National Day
    ],
)
def test_T5_working_days_follow_the_chinese_calendar(day: date, working: bool) -> None:
    assert is_working_day(day) is working


# -- due times ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        # Working day, within hours: 2 hours later.
        (bj(2026, 3, 2, 10, 0), bj(2026, 3, 2, 12, 0)),
        (bj(2026, 3, 2, 17, 59), bj(2026, 3, 2, 19, 59)),
        (bj(2026, 3, 2, 18, 0), bj(2026, 3, 2, 20, 0)),
        # Working day, before opening: received at 9:00.
        (bj(2026, 3, 2, 8, 0), bj(2026, 3, 2, 11, 0)),
        (bj(2026, 3, 2, 0, 0), bj(2026, 3, 2, 11, 0)),
        # Exactly 9:00 is within hours.
        (bj(2026, 3, 2, 9, 0), bj(2026, 3, 2, 11, 0)),
        # Working day evening: what is left at 20:00 carries over to 9:00 the next day.
        (bj(2026, 3, 2, 19, 0), bj(2026, 3, 3, 10, 0)),
        (bj(2026, 3, 2, 19, 59), bj(2026, 3, 3, 10, 59)),
        # Exactly 20:00 and later: received at 9:00 the next day.
        (bj(2026, 3, 2, 20, 0), bj(2026, 3, 3, 11, 0)),
        (bj(2026, 3, 2, 20, 30), bj(2026, 3, 3, 11, 0)),
        (bj(2026, 3, 2, 23, 59), bj(2026, 3, 3, 11, 0)),
        # Friday evening: carried into Saturday morning (reviewers work every day).
        (bj(2026, 3, 6, 19, 30), bj(2026, 3, 7, 10, 30)),
        # Friday at 20:00 is received on Saturday, a holiday: one day later.
        (bj(2026, 3, 6, 20, 0), bj(2026, 3, 8, 9, 0)),
        # Weekend: one day later, same time.
        (bj(2026, 3, 7, 10, 0), bj(2026, 3, 8, 10, 0)),
        (bj(2026, 3, 8, 19, 59), bj(2026, 3, 9, 19, 59)),
        (bj(2026, 3, 7, 7, 0), bj(2026, 3, 8, 9, 0)),
        (bj(2026, 3, 7, 21, 0), bj(2026, 3, 9, 9, 0)),  # received Sunday 9:00, a holiday
        # Public holiday.
        (bj(2026, 10, 2, 11, 0), bj(2026, 10, 3, 11, 0)),
        (bj(2026, 10, 1, 9, 0), bj(2026, 10, 2, 9, 0)),
        # Make-up working day (a Saturday): the working-day rule.
        (bj(2026, 10, 10, 10, 0), bj(2026, 10, 10, 12, 0)),
        (bj(2026, 10, 10, 19, 0), bj(2026, 10, 11, 10, 0)),
        # The working day before National Day carries over into the holiday's first morning.
        (bj(2026, 9, 30, 19, 0), bj(2026, 10, 1, 10, 0)),
        # The last holiday evening: received the next (working) morning.
        (bj(2026, 10, 7, 20, 0), bj(2026, 10, 8, 11, 0)),
    ],
    ids=str,
)
def test_T5_review_due_time(submitted: datetime, due: datetime) -> None:
    assert review_due_at(submitted) == due
    assert review_due_at(submitted).utcoffset() == timedelta(hours=8)


def test_T5_the_due_time_is_never_before_the_submission_and_within_hours_on_working_days() -> None:
    start = bj(2026, 9, 28, 0, 0)
    for step in range(0, 14 * 24 * 4):  # every quarter hour for two weeks around National Day
        submitted = start + timedelta(minutes=15 * step)
        due = review_due_at(submitted)
        assert due > submitted
        received = received_at(submitted)
        if is_working_day(received.date()):
            assert due - received <= timedelta(hours=2) + timedelta(hours=13)
            assert time_of_day(due) >= (9, 0) and time_of_day(due) <= (20, 0)
        else:
            assert due - received == timedelta(days=1)


def time_of_day(moment: datetime) -> tuple[int, int]:
    local = moment.astimezone(BEIJING)
    return local.hour, local.minute


# -- time zones --------------------------------------------------------------------------------


def test_T5_an_instant_given_in_utc_is_judged_in_beijing_time() -> None:
    # Monday 2026-03-02 00:30 UTC is 08:30 in Beijing: received 09:00, due 11:00 (03:00 UTC).
    due = review_due_at(datetime(2026, 3, 2, 0, 30, tzinfo=UTC))
    assert due == bj(2026, 3, 2, 11, 0)
    assert due == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def test_T5_a_utc_friday_night_is_a_beijing_saturday() -> None:
    # Friday 2026-03-06 23:00 UTC is Saturday 07:00 in Beijing: a holiday, received 09:00.
    due = review_due_at(datetime(2026, 3, 6, 23, 0, tzinfo=UTC))
    assert due == bj(2026, 3, 8, 9, 0)


def test_T5_any_offset_gives_the_same_due_time_as_beijing() -> None:
    submitted = bj(2026, 3, 6, 19, 30)
    for offset in (-8, -5, 0, 5, 9):
        other = submitted.astimezone(timezone(timedelta(hours=offset)))
        assert review_due_at(other) == bj(2026, 3, 7, 10, 30)


def test_T5_received_at_moves_outside_hours_to_the_next_opening() -> None:
    assert received_at(bj(2026, 3, 2, 8, 59)) == bj(2026, 3, 2, 9, 0)
    assert received_at(bj(2026, 3, 2, 9, 0)) == bj(2026, 3, 2, 9, 0)
    assert received_at(bj(2026, 3, 2, 19, 59)) == bj(2026, 3, 2, 19, 59)
    assert received_at(bj(2026, 3, 2, 20, 0)) == bj(2026, 3, 3, 9, 0)


# -- a year without calendar data ---------------------------------------------------------------


def test_T5_a_year_without_calendar_data_falls_back_to_monday_to_friday(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The calendar raises NotImplementedError for a year it has no data for (as for 2027 in
    chinesecalendar 1.11); forced here so the test holds when the package learns 2027."""

    def no_data(day: date) -> bool:
        raise NotImplementedError(f"no available data for year {day.year}")

    monkeypatch.setattr(chinese_calendar, "is_workday", no_data)
    assert is_working_day(date(2027, 1, 1)) is True  # a Friday (New Year's Day, unknown yet)
    assert is_working_day(date(2027, 1, 2)) is False  # Saturday
    assert is_working_day(date(2027, 1, 3)) is False  # Sunday
    assert is_working_day(date(2027, 1, 4)) is True  # Monday
    assert review_due_at(bj(2027, 3, 5, 19, 0)) == bj(2027, 3, 6, 10, 0)  # Friday
    assert review_due_at(bj(2027, 3, 6, 10, 0)) == bj(2027, 3, 7, 10, 0)  # Saturday
    assert review_due_at(bj(2027, 3, 8, 8, 0)) == bj(2027, 3, 8, 11, 0)  # Monday


def test_T5_2027_works_with_the_installed_calendar() -> None:
    """No error for a year past the package's data, whatever the package version."""
    assert review_due_at(bj(2027, 3, 5, 19, 0)) == bj(2027, 3, 6, 10, 0)  # Friday
    assert review_due_at(bj(2027, 3, 6, 10, 0)) == bj(2027, 3, 7, 10, 0)  # Saturday
    assert review_due_at(bj(2027, 3, 8, 8, 0)) == bj(2027, 3, 8, 11, 0)  # Monday

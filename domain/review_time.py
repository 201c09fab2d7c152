"""When a template's review is due (T5), on the Chinese public-holiday calendar.

*Reading* of "人工审核工作日2小时内,节假日1天内完成审核,受理时间:9:00-20:00":
- Reviewers take submissions in from 9:00 to 20:00 Beijing time, every day. A submission outside
  those hours is received when they next open (08:00 → 09:00 the same day; 20:30 → 09:00 the next).
- Received on a **working day** (make-up working days included): due 2 hours of intake time later;
  time left at 20:00 carries over to 09:00 the next day (reviewers work every day; only the
  target differs).
- Received on a **holiday** (a weekend or public holiday that is not a make-up working day):
  due 1 day later, at the same time the next day.

Working days come from the maintained ``chinesecalendar`` package. For a year it has no data for
yet (it is updated when the State Council publishes the next year's holidays), Monday to Friday
are taken as working days.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

BEIJING = ZoneInfo("Asia/Shanghai")
OPENS = time(9, 0)
CLOSES = time(20, 0)
WORKING_DAY_TARGET = timedelta(hours=2)
HOLIDAY_TARGET = timedelta(days=1)


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the calendar does not know yet
        return day.weekday() < 5


def received_at(submitted: datetime) -> datetime:
    """The moment review intake takes a submission in (Beijing time)."""
    local = submitted.astimezone(BEIJING)
    opening = datetime.combine(local.date(), OPENS, BEIJING)
    closing = datetime.combine(local.date(), CLOSES, BEIJING)
    if local < opening:
        return opening
    if local >= closing:
        return opening + timedelta(days=1)
    return local


def review_due_at(submitted: datetime) -> datetime:
    """T5: when the review of a template submitted at ``submitted`` is due."""
    start = received_at(submitted)
    if not is_working_day(start.date()):
        return start + HOLIDAY_TARGET
    return _add_intake_time(start, WORKING_DAY_TARGET)


def _add_intake_time(start: datetime, duration: timedelta) -> datetime:
    moment, left = start, duration
    while True:
        closing = datetime.combine(moment.date(), CLOSES, BEIJING)
        if moment + left <= closing:
            return moment + left
        left -= closing - moment
        moment = datetime.combine(moment.date() + timedelta(days=1), OPENS, BEIJING)

"""Waiting sends on their own (no I/O): scheduled (S6, S7, Q5, Q11), reviewed by the provider
(S8), skipped numbers (opt-out); and the S8 due times on real dates."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from smsplat.domain.errors import InvalidInput, QuotaConflict
from smsplat.domain.provider_review import needs_provider_review, review_passes_at
from smsplat.domain.send_draft import SendDraft
from smsplat.domain.sending import (
    NotCancellable,
    NotScheduled,
    RescheduleTooLate,
    Send,
    SendStatus,
)

BEIJING = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
PHONES = ["13800000001", "13800000002", "13800000003"]


def waiting_send(
    scheduled_at: datetime | None = T0 + timedelta(hours=3),
    reviewed: bool = False,
    units: int = 2,
) -> Send:
    """``reviewed``: a marketing send the provider reviews first, due ``review_passes_at(T0)``
    (T0 + 30 minutes)."""
    kind = "marketing" if reviewed else "notice"
    draft = SendDraft(
        uuid4(), uuid4(), uuid4(), "mass", kind, "site", "【浮云】会员日八折。", tuple(PHONES),
        (units,) * len(PHONES), provider_review=reviewed, scheduled_at=scheduled_at,
    )  # fmt: skip
    return Send.accept(draft, "account", T0)


def replayed(send: Send) -> Send:
    events = send.collect_events()
    copy = None
    for event in events:
        copy = event.mutate(copy)
    assert isinstance(copy, Send)
    return copy


def test_S6_Q5_a_scheduled_send_waits_with_its_units_locked_not_charged() -> None:
    send = waiting_send()
    assert send.status is SendStatus.SCHEDULED
    assert (send.units_locked, send.units_charged) == (6, 0)
    assert send.next_batch is None  # nothing may go to the carrier yet
    assert send.due_at == send.goes_out_at == T0 + timedelta(hours=3)


def test_S6_Q5_at_its_time_the_lock_becomes_the_charge() -> None:
    send = waiting_send()
    assert not send.is_due(T0 + timedelta(hours=3) - timedelta(seconds=1))
    with pytest.raises(QuotaConflict):
        send.start(set(), T0 + timedelta(hours=2))
    assert send.start(set(), T0 + timedelta(hours=3)) == 6
    assert send.status is SendStatus.SUBMITTING
    assert (send.units_locked, send.units_charged, send.next_batch) == (0, 6, 0)
    assert replayed(send).status is SendStatus.SUBMITTING


def test_S6_numbers_opted_out_while_waiting_are_skipped_and_not_charged() -> None:
    send = waiting_send()
    assert send.start({PHONES[1]}, T0 + timedelta(hours=3)) == 4
    assert send.message_status(1).value == "failed"
    assert send.units_charged == 4 and send.units_refunded == 0


@pytest.mark.parametrize(("remaining", "allowed"), [(61, True), (60, True), (59, False)])
def test_S7_the_time_changes_only_while_an_hour_remains(remaining: int, allowed: bool) -> None:
    when = T0 + timedelta(hours=3)
    send = waiting_send(scheduled_at=when)
    now = when - timedelta(minutes=remaining)
    later = now + timedelta(hours=5)
    if allowed:
        send.reschedule(later, "account", now)
        assert send.scheduled_at == later and replayed(send).scheduled_at == later
    else:
        with pytest.raises(RescheduleTooLate):
            send.reschedule(later, "account", now)


def test_S7_a_new_time_is_in_the_future_and_within_a_year() -> None:
    send = waiting_send()
    for when in (T0 - timedelta(minutes=1), T0 + timedelta(days=366), datetime(2026, 3, 3, 9)):
        with pytest.raises(InvalidInput):
            send.reschedule(when, "account", T0)


def test_S7_a_send_without_a_time_or_already_submitted_cannot_be_rescheduled() -> None:
    reviewed = waiting_send(scheduled_at=None, reviewed=True)
    with pytest.raises(NotScheduled):
        reviewed.reschedule(T0 + timedelta(hours=2), "account", T0)
    started = waiting_send()
    started.start(set(), T0 + timedelta(hours=3))
    with pytest.raises(RescheduleTooLate):
        started.reschedule(T0 + timedelta(hours=5), "account", T0 + timedelta(hours=3))


def test_Q11_cancelling_returns_the_locked_units_once() -> None:
    send = waiting_send()
    assert send.cancel("cancelled_by_account", "account", T0) == 6
    assert send.status is SendStatus.CANCELLED and send.units_locked == 0
    assert send.due_at is None and send.goes_out_at is None
    assert set(send.counts().values()) == {0}  # no message will go
    with pytest.raises(NotCancellable):
        send.cancel("cancelled_by_account", "account", T0)
    assert replayed(send).status is SendStatus.CANCELLED


def test_Q11_a_submitted_send_cannot_be_cancelled() -> None:
    send = waiting_send()
    send.start(set(), T0 + timedelta(hours=3))
    with pytest.raises(NotCancellable):
        send.cancel("cancelled_by_account", "account", T0 + timedelta(hours=3))


def test_S8_a_marketing_send_awaits_the_review_then_goes_out() -> None:
    due = T0 + timedelta(minutes=30)
    send = waiting_send(scheduled_at=None, reviewed=True)
    assert send.status is SendStatus.AWAITING_PROVIDER_REVIEW
    assert send.due_at == send.goes_out_at == due
    assert not send.pass_review(due - timedelta(seconds=1))
    assert send.pass_review(due) and send.is_due(due)
    assert not send.pass_review(due)  # once
    send.start(set(), due)
    assert send.status.value == "submitting"


def test_S8_a_reviewed_scheduled_send_still_waits_for_its_time() -> None:
    send = waiting_send(reviewed=True)
    send.pass_review(T0 + timedelta(minutes=30))
    assert send.status is SendStatus.SCHEDULED
    assert not send.is_due(T0 + timedelta(hours=1))
    assert send.due_at == T0 + timedelta(hours=3)


def test_an_old_send_event_without_schedule_fields_replays_as_submitted_at_once() -> None:
    draft = SendDraft(UUID(int=1), uuid4(), uuid4(), "mass", "notice", None, "x", tuple(PHONES),
                      (1,) * len(PHONES))  # fmt: skip
    send = Send.accept(draft, "a", T0)
    event = send.collect_events()[0]
    del event.__dict__["scheduled_at"], event.__dict__["review_due_at"]  # as stored before
    old = event.mutate(None)
    assert isinstance(old, Send) and old.started and old.status is SendStatus.SUBMITTING


@pytest.mark.parametrize(
    ("requested", "passes"),
    [
        ("2026-03-02 19:59", "2026-03-02 20:29"),
        ("2026-03-02 20:00", "2026-03-02 20:30"),
        ("2026-03-02 20:01", "2026-03-03 09:30"),
        ("2026-03-02 23:30", "2026-03-03 09:30"),
        ("2026-03-03 00:10", "2026-03-03 09:30"),
        ("2026-03-03 08:59", "2026-03-03 09:30"),
        ("2026-03-03 09:00", "2026-03-03 09:30"),
        ("2026-03-07 12:00", "2026-03-07 12:30"),  # a Saturday: the provider works every day
    ],
)
def test_S8_the_provider_passes_30_minutes_into_its_hours(requested: str, passes: str) -> None:
    asked = datetime.fromisoformat(requested).replace(tzinfo=BEIJING)
    assert review_passes_at(asked) == datetime.fromisoformat(passes).replace(tzinfo=BEIJING)


def test_S8_only_marketing_is_reviewed_by_the_provider() -> None:
    assert needs_provider_review("mass", "marketing")
    assert not needs_provider_review("mass", "notice")
    assert not needs_provider_review("business", None)

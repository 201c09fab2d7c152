"""When a send goes out: its schedule, the provider's review, and what may still change
(S6, S7, S8, Q11)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import DomainError, InvalidInput
from .message_status import SendStatus

RESCHEDULE_NOTICE = timedelta(hours=1)  # S7: the time can change while at least this remains
MAX_SCHEDULE_AHEAD = timedelta(days=365)


class NotCancellable(DomainError):
    """S7, Q11: only a send not yet submitted can be cancelled."""

    code = "not_cancellable"
    title = "Send cannot be cancelled"


class RescheduleTooLate(DomainError):
    """S7: the time can change only while at least an hour remains before it."""

    code = "reschedule_too_late"
    title = "Too late to reschedule"


class NotScheduled(DomainError):
    """Only a scheduled send has a time to change."""

    code = "not_scheduled"
    title = "Send is not scheduled"


def check_schedule(when: datetime, now: datetime) -> datetime:
    """A time a send may be scheduled for: aware, in the future, within a year."""
    if when.tzinfo is None:
        raise InvalidInput(
            "scheduled_at needs a time zone offset (e.g. +08:00).", field="scheduled_at"
        )
    if when <= now:
        raise InvalidInput(
            "scheduled_at must be in the future; leave it out to send now.", field="scheduled_at"
        )
    if when > now + MAX_SCHEDULE_AHEAD:
        raise InvalidInput("A send can be scheduled at most a year ahead.", field="scheduled_at")
    return when


def goes_out_at(
    requested_at: datetime, scheduled_at: datetime | None, review_due_at: datetime | None
) -> datetime:
    """When a send goes to the carrier: at once, at its time, or once the provider has
    passed it (S6, S8), whichever is last."""
    return max(t for t in (scheduled_at, review_due_at, requested_at) if t is not None)


@dataclass(frozen=True)
class WaitingState:
    """Where a send that waits stands: its status, when the scheduler is next due to act on
    it, and when it is expected to go out. The aggregate and the sends read model share it."""

    status: SendStatus
    due_at: datetime
    goes_out_at: datetime


def waiting_state(
    requested_at: datetime,
    scheduled_at: datetime | None,
    review_due_at: datetime | None,
    review_passed: bool,
) -> WaitingState:
    review_pending = review_due_at is not None and not review_passed
    return WaitingState(
        SendStatus.AWAITING_PROVIDER_REVIEW if review_pending else SendStatus.SCHEDULED,
        (review_due_at if review_pending else scheduled_at) or requested_at,
        goes_out_at(requested_at, scheduled_at, review_due_at),
    )

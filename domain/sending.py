"""Sends (发送): one template to one or many recipients, followed to the last receipt.

A business message is a send to one recipient; a mass send, to up to 10,000 (S2). A send is
accepted whole, with its units charged in the same save as its acceptance (Q5, Q10: see
``commands``), then handed to the carrier in batches of 100 (S5) by a worker that records one
event per batch. Receipts settle each message (S10); failures give their units back (Q7);
no receipt 72 hours after submission is *unknown* and stays charged (Q8).

The state of every message is one character in ``statuses``, so a 10,000-recipient send stays
a small aggregate: ``.`` pending, ``s`` sending, ``d`` success (delivered), ``f`` failed,
``u`` unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from .errors import DomainError, InvalidInput, QuotaConflict

BATCH_SIZE = 100  # S5
UNKNOWN_AFTER = timedelta(hours=72)  # Q8
RESCHEDULE_NOTICE = timedelta(hours=1)  # S7: the time can change while at least this remains
MAX_SCHEDULE_AHEAD = timedelta(days=365)
OPTED_OUT = "opted_out"  # why a message of a marketing send was skipped


class MessageStatus(StrEnum):
    """S10, plus ``pending`` before the carrier has it."""

    PENDING = "pending"
    SENDING = "sending"
    SUCCESS = "success"
    FAILED = "failed"
    UNKNOWN = "unknown"


CODE = {
    MessageStatus.PENDING: ".",
    MessageStatus.SENDING: "s",
    MessageStatus.SUCCESS: "d",
    MessageStatus.FAILED: "f",
    MessageStatus.UNKNOWN: "u",
}
STATUS = {code: status for status, code in CODE.items()}
FINAL = {CODE[MessageStatus.SUCCESS], CODE[MessageStatus.FAILED], CODE[MessageStatus.UNKNOWN]}


class SendStatus(StrEnum):
    SCHEDULED = "scheduled"  # units locked; waits for its time (S6, Q5)
    AWAITING_PROVIDER_REVIEW = "awaiting_provider_review"  # units locked; marketing (S8)
    CANCELLED = "cancelled"  # before submission; the lock was released (Q11)
    SUBMITTING = "submitting"  # accepted; batches still going to the carrier
    SUBMITTED = "submitted"  # every batch handed over; receipts outstanding
    COMPLETED = "completed"  # every message final


def message_id(send_id: UUID, index: int) -> str:
    """Message ids are derived, not stored: ``<send id>.<index>``."""
    return f"{send_id}.{index}"


def parse_message_id(text: str) -> tuple[UUID, int] | None:
    """The send and index of an id ``message_id`` made, or None (no aliases: ``.07``, ``.-1``)."""
    send, _, index = text.rpartition(".")
    if not (index.isascii() and index.isdigit()) or str(int(index)) != index:
        return None
    try:
        send_id = UUID(send)
    except ValueError:
        return None
    return (send_id, int(index)) if str(send_id) == send else None


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
        raise InvalidInput("scheduled_at needs a time zone offset (e.g. +08:00).")
    if when <= now:
        raise InvalidInput("scheduled_at must be in the future; leave it out to send now.")
    if when > now + MAX_SCHEDULE_AHEAD:
        raise InvalidInput("A send can be scheduled at most a year ahead.")
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


@dataclass(frozen=True)
class Handover:
    """What the carrier answered for one message of a batch."""

    index: int
    carrier_message_id: str | None  # None: refused at submission
    failure: str | None = None  # why it failed at submission (carrier_refused, ...)


@dataclass(frozen=True)
class Settlement:
    """What recording receipts (or expiring messages) changed, and the units to refund."""

    delivered: int
    failed: int
    expired: int
    ignored: int  # duplicates, or receipts for messages already final
    refund_units: int


class Send(Aggregate):
    class Accepted(Aggregate.Created):
        account_id: str
        template_id: str
        type: str
        kind: str | None
        product: str | None
        text: str
        units_per_message: int
        recipients: list[str]
        actor: str
        limit_category: str | None = None  # S9: verification, marketing or none
        # added with scheduling (older events have neither: they were submitted at once)
        scheduled_at: datetime | None = None  # S6: submitted at this time; units locked
        review_due_at: datetime | None = None  # S8: when the provider's review passes

    class Rescheduled(Aggregate.Event):
        """S7: the time of a scheduled send changed."""

        scheduled_at: datetime
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            aggregate.scheduled_at = self.scheduled_at

    class ProviderReviewPassed(Aggregate.Event):
        """S8: the provider passed a marketing send."""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            aggregate.review_passed = True

    class Cancelled(Aggregate.Event):
        """Q11: cancelled before submission; ``units_released`` went back to the account.
        ``reason``: ``cancelled_by_account``, or ``template_deleted`` (at its time)."""

        reason: str
        actor: str
        units_released: int

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            aggregate.cancel_reason = self.reason
            aggregate.cancelled_at = self.timestamp

    class SubmissionStarted(Aggregate.Event):
        """A waiting send's time came: its lock became a charge (Q5) for every message but
        ``skipped`` (numbers opted out since it was accepted: failed, never charged)."""

        skipped: list[int]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            aggregate.started_at = self.timestamp
            aggregate._set(set(self.skipped), MessageStatus.FAILED)
            aggregate.skipped = len(self.skipped)

    class BatchSubmitted(Aggregate.Event):
        """S5: one batch handed over. ``sent`` are [index, carrier id]; ``failed`` [index, why]."""

        batch: int
        sent: list[list[Any]]
        failed: list[list[Any]]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            # a receipt may have settled a message before its batch was recorded: keep it
            pending = CODE[MessageStatus.PENDING]
            aggregate._set(
                {i for i, _ in self.sent if aggregate.statuses[i] == pending},
                MessageStatus.SENDING,
            )
            newly_failed = {i for i, _ in self.failed if aggregate.statuses[i] == pending}
            aggregate._set(newly_failed, MessageStatus.FAILED)
            aggregate.batch_times.append(self.timestamp)
            aggregate.units_refunded += len(newly_failed) * aggregate.units_per_message

    class ReceiptsRecorded(Aggregate.Event):
        """Carrier receipts that settled messages (duplicates are not recorded)."""

        delivered: list[int]
        failed: list[int]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            aggregate._set(set(self.delivered), MessageStatus.SUCCESS)
            aggregate._set(set(self.failed), MessageStatus.FAILED)
            aggregate.units_refunded += len(self.failed) * aggregate.units_per_message

    class MessagesExpired(Aggregate.Event):
        """Q8: no receipt 72 hours after submission: unknown, and still charged."""

        indices: list[int]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            aggregate._set(set(self.indices), MessageStatus.UNKNOWN)

    def __init__(
        self,
        account_id: str,
        template_id: str,
        type: str,
        kind: str | None,
        product: str | None,
        text: str,
        units_per_message: int,
        recipients: list[str],
        actor: str,
        limit_category: str | None = None,
        scheduled_at: datetime | None = None,
        review_due_at: datetime | None = None,
    ) -> None:
        self.account_id = account_id
        self.scheduled_at = scheduled_at
        self.review_due_at = review_due_at
        self.review_passed = False
        self.cancel_reason: str | None = None
        self.cancelled_at: datetime | None = None
        waits = scheduled_at is not None or review_due_at is not None
        self.started_at: datetime | None = None if waits else self.created_on
        self.skipped = 0  # messages skipped at submission (opted out since acceptance)
        self.limit_category = limit_category
        self.template_id = template_id
        self.type = type
        self.kind = kind
        self.product = product
        self.text = text
        self.units_per_message = units_per_message
        self.recipients = list(recipients)
        self.actor = actor
        self.statuses = CODE[MessageStatus.PENDING] * len(recipients)
        self.batch_times: list[datetime] = []
        self.units_refunded = 0

    @classmethod
    def accept(
        cls,
        send_id: UUID,
        account_id: UUID,
        template_id: UUID,
        type_: str,
        kind: str | None,
        product: str | None,
        text: str,
        units_per_message: int,
        recipients: Sequence[str],
        actor: str,
        at: datetime,
        limit_category: str | None = None,
        scheduled_at: datetime | None = None,
        review_due_at: datetime | None = None,
    ) -> Send:
        """A send accepted whole. The caller, in the same save, charges ``units_charged`` of
        a send that goes out now, or locks ``units_locked`` of one that waits (S6, S8, Q5)."""
        if not recipients:
            raise InvalidInput("A send needs at least one recipient.")
        if units_per_message not in (1, 2):
            raise InvalidInput("A message costs 1 or 2 units (Q6).")
        return cls._create(
            cls.Accepted,
            id=send_id,
            account_id=str(account_id),
            template_id=str(template_id),
            type=type_,
            kind=kind,
            product=product,
            text=text,
            units_per_message=units_per_message,
            recipients=list(recipients),
            actor=actor,
            limit_category=limit_category,
            scheduled_at=check_schedule(scheduled_at, at) if scheduled_at else None,
            review_due_at=review_due_at,
            timestamp=at,
        )

    # -- queries ------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return len(self.recipients)

    @property
    def started(self) -> bool:
        """Released to the carrier (and charged): at once, or when its time came."""
        return self.started_at is not None

    @property
    def cancelled(self) -> bool:
        return self.cancel_reason is not None

    @property
    def waiting(self) -> bool:
        """Accepted with its units locked, not yet submitted nor cancelled."""
        return not self.started and not self.cancelled

    @property
    def review_pending(self) -> bool:
        return self.review_due_at is not None and not self.review_passed

    @property
    def units_charged(self) -> int:
        """Charged at submission (Q5): every message but those skipped."""
        return (self.total - self.skipped) * self.units_per_message if self.started else 0

    @property
    def units_locked(self) -> int:
        """Held for a waiting send (Q5): every message, until it is submitted or cancelled."""
        return self.total * self.units_per_message if self.waiting else 0

    @property
    def goes_out_at(self) -> datetime | None:
        """When it is (expected to be) submitted: at once, at its time, or once the provider
        has passed it, whichever is last; None once cancelled."""
        if self.cancelled:
            return None
        if self.started_at is not None:
            return self.started_at
        return self._waiting_state().goes_out_at

    @property
    def due_at(self) -> datetime | None:
        """When the scheduler has something to do: pass the review, or submit the send."""
        return self._waiting_state().due_at if self.waiting else None

    @property
    def batch_count(self) -> int:
        return -(-self.total // BATCH_SIZE)

    @property
    def next_batch(self) -> int | None:
        """The first batch not yet handed over, or None when all are (or none may go yet)."""
        done = len(self.batch_times)
        return done if self.started and done < self.batch_count else None

    def batch_indices(self, batch: int) -> range:
        return range(batch * BATCH_SIZE, min((batch + 1) * BATCH_SIZE, self.total))

    @property
    def status(self) -> SendStatus:
        if self.cancelled:
            return SendStatus.CANCELLED
        if not self.started:
            return self._waiting_state().status
        if self.next_batch is not None:
            return SendStatus.SUBMITTING
        if all(code in FINAL for code in self.statuses):
            return SendStatus.COMPLETED
        return SendStatus.SUBMITTED

    def message_status(self, index: int) -> MessageStatus:
        return STATUS[self.statuses[index]]

    def counts(self) -> dict[str, int]:
        """Messages by status; a cancelled send has none left to count (none will go)."""
        if self.cancelled:
            return dict.fromkeys((status.value for status in MessageStatus), 0)
        return {status.value: self.statuses.count(CODE[status]) for status in MessageStatus}

    # -- commands -----------------------------------------------------------------------

    def reschedule(self, when: datetime, actor: str, now: datetime) -> None:
        """S7: a new time, while at least an hour remains before the time now scheduled."""
        if not self.waiting or self.scheduled_at is None:
            if self.waiting:
                raise NotScheduled(f"Send {self.id} goes out as soon as it is reviewed.")
            raise RescheduleTooLate(f"Send {self.id} is {self.status.value}.")
        if self.scheduled_at - now < RESCHEDULE_NOTICE:
            raise RescheduleTooLate(
                "The time can only be changed while at least 1 hour remains before it (S7)."
            )
        self.trigger_event(
            self.Rescheduled, scheduled_at=check_schedule(when, now), actor=actor, timestamp=now
        )

    def cancel(self, reason: str, actor: str, at: datetime) -> int:
        """S7, Q11: cancel before submission; returns the locked units to release."""
        if not self.waiting:
            raise NotCancellable(
                f"Send {self.id} is {self.status.value}; only a send not yet submitted "
                "can be cancelled."
            )
        units = self.units_locked
        self.trigger_event(
            self.Cancelled, reason=reason, actor=actor, units_released=units, timestamp=at
        )
        return units

    def pass_review(self, at: datetime) -> bool:
        """S8: the provider's review is over (the simulated provider: at its due time)."""
        if not (self.waiting and self.review_pending and self.review_due_at is not None):
            return False
        if at < self.review_due_at:
            return False
        self.trigger_event(self.ProviderReviewPassed, timestamp=at)
        return True

    def is_due(self, now: datetime) -> bool:
        """Its time has come and the provider (if asked) has passed it."""
        due = self.due_at
        return due is not None and not self.review_pending and now >= due

    def start(self, opted_out: set[str], at: datetime) -> int:
        """Submit a waiting send whose time came; returns the units to charge from its lock
        (numbers opted out since acceptance are skipped and cost nothing)."""
        if not self.is_due(at):
            raise QuotaConflict(f"Send {self.id} is not due.")
        skipped = [i for i, phone in enumerate(self.recipients) if phone in opted_out]
        self.trigger_event(self.SubmissionStarted, skipped=skipped, timestamp=at)
        return self.units_charged

    def record_batch(self, batch: int, handovers: Sequence[Handover], at: datetime) -> int:
        """S5: record the carrier's answers for ``batch``; returns the units to refund now
        (messages refused at submission fail at once, Q7). Each batch is recorded once."""
        if batch != self.next_batch:
            raise QuotaConflict(f"Batch {batch} of send {self.id} is not the next to record.")
        expected = set(self.batch_indices(batch))
        if {h.index for h in handovers} != expected or len(handovers) != len(expected):
            raise InvalidInput(f"Batch {batch} must answer for exactly its own messages.")
        sent = [[h.index, h.carrier_message_id] for h in handovers if h.carrier_message_id]
        failed = [
            [h.index, h.failure or "carrier_refused"] for h in handovers if not h.carrier_message_id
        ]
        # a message an early receipt already settled is not failed (nor refunded) again
        pending = CODE[MessageStatus.PENDING]
        refunds = sum(
            1 for h in handovers if not h.carrier_message_id and self.statuses[h.index] == pending
        )
        self.trigger_event(self.BatchSubmitted, batch=batch, sent=sent, failed=failed, timestamp=at)
        return refunds * self.units_per_message

    def record_receipts(self, receipts: Sequence[tuple[int, str]], at: datetime) -> Settlement:
        """S10: settle messages from receipts (``delivered`` or ``failed``). Duplicates and
        receipts for messages already final are ignored; a receipt may come before the batch
        is recorded (the carrier can be quick), so ``pending`` messages settle too."""
        delivered: dict[int, None] = {}
        failed: dict[int, None] = {}
        ignored = 0
        for index, status in receipts:
            if not 0 <= index < self.total:
                raise InvalidInput(f"Send {self.id} has no message {index}.")
            if status not in ("delivered", "failed"):
                raise InvalidInput(f"A receipt's status is delivered or failed, not {status!r}.")
            if self.statuses[index] in FINAL or index in delivered or index in failed:
                ignored += 1
            elif status == "delivered":
                delivered[index] = None
            else:
                failed[index] = None
        if delivered or failed:
            self.trigger_event(
                self.ReceiptsRecorded,
                delivered=list(delivered),
                failed=list(failed),
                timestamp=at,
            )
        return Settlement(
            len(delivered), len(failed), 0, ignored, len(failed) * self.units_per_message
        )

    def expire(self, now: datetime) -> Settlement:
        """Q8: messages still without a receipt 72 hours after their batch went out."""
        overdue = [
            index
            for batch, handed_at in enumerate(self.batch_times)
            if now - handed_at >= UNKNOWN_AFTER
            for index in self.batch_indices(batch)
            if self.statuses[index] == CODE[MessageStatus.SENDING]
        ]
        if overdue:
            self.trigger_event(self.MessagesExpired, indices=overdue, timestamp=now)
        return Settlement(0, 0, len(overdue), 0, 0)

    def next_expiry(self) -> datetime | None:
        """When the earliest message still sending becomes unknown (for the timer)."""
        for batch, handed_at in enumerate(self.batch_times):
            if any(
                self.statuses[i] == CODE[MessageStatus.SENDING] for i in self.batch_indices(batch)
            ):
                return handed_at + UNKNOWN_AFTER
        return None

    # -- internals ----------------------------------------------------------------------

    def _waiting_state(self) -> WaitingState:
        return waiting_state(
            self.created_on, self.scheduled_at, self.review_due_at, self.review_passed
        )

    def _set(self, indices: set[int], status: MessageStatus) -> None:
        if not indices:
            return
        code = CODE[status]
        chars = list(self.statuses)
        for index in indices:
            chars[index] = code
        self.statuses = "".join(chars)

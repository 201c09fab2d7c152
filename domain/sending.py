"""Sends (发送): one template to one or many recipients, followed to the last receipt.

A business message is a send to one recipient; a mass send, to up to 10,000 (S2). A send is
accepted whole, with its units charged in the same save as its acceptance (Q5, Q10: see
``commands``), then handed to the carrier in batches of 100 (S5) by a worker that claims each
batch before handing it over and records the carrier's answers after (``handover.py``).
Receipts settle each message the carrier was handed (S10, ``carrier_input.py``); failures give
their units back (Q7); no receipt 72 hours after submission is *unknown* and stays charged (Q8).

The state of every message is one character in ``statuses``, so a 10,000-recipient send stays
a small aggregate: ``.`` pending, ``s`` sending, ``d`` success (delivered), ``f`` failed,
``u`` unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate

from .carrier_input import (
    DELIVERED,
    RECEIPT_STATUSES,
    CarrierReceipt,
    IgnoredBecause,
    ReceiptResult,
    ReceiptSettlement,
)
from .errors import InvalidInput, QuotaConflict
from .handled_requests import HandledRequests
from .handover import BatchClaim, Handover, HandoverClaim
from .message_status import (
    CODE,
    FINAL,
    NEVER_HANDED_OVER,
    OPTED_OUT,
    STATUS,
    MessageStatus,
    SendStatus,
    message_id,
    parse_message_id,
)
from .pricing import fill_placeholders
from .provider_review import review_passes_at
from .send_draft import SendDraft
from .send_schedule import (
    RESCHEDULE_NOTICE,
    NotCancellable,
    NotScheduled,
    RescheduleTooLate,
    WaitingState,
    check_schedule,
    goes_out_at,
    waiting_state,
)

__all__ = [
    "BATCH_SIZE",
    "OPTED_OUT",
    "UNKNOWN_AFTER",
    "MessageStatus",
    "NotCancellable",
    "NotScheduled",
    "RescheduleTooLate",
    "Send",
    "SendStatus",
    "check_schedule",
    "goes_out_at",
    "message_id",
    "parse_message_id",
    "waiting_state",
]

BATCH_SIZE = 100  # S5
UNKNOWN_AFTER = timedelta(hours=72)  # Q8


# attributes of a send that no event changes once it is accepted (shared by its copies)
_FIXED_AT_ACCEPTANCE = frozenset({"recipients", "personal", "unit_counts", "text"})
# sets and lists of immutable values (strings, indices, instants): a shallow copy is a deep one
_PLAIN_COLLECTIONS = frozenset({"skipped_indices", "withheld", "handled", "batch_times"})


class Send(Aggregate, HandledRequests):
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
        # added with per-recipient variables (older events have neither: one text for all,
        # ``units_per_message`` each). ``text`` then keeps the placeholders that differ per
        # recipient, ``personal[i]`` their values for recipient i, ``unit_counts[i]`` what
        # message i costs (Q6), as a digit.
        personal: list[dict[str, str]] | None = None
        unit_counts: str | None = None
        # added with real carriers (older events have none: sent from the bare source_addr)
        extension: str | None = None  # the account's code after the carrier's source_addr

    class Rescheduled(Aggregate.Event):
        """S7: the time of a scheduled send changed."""

        scheduled_at: datetime
        actor: str
        request_id: str | None = None  # see domain/handled_requests.py

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            aggregate._handled(self.request_id)
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
        request_id: str | None = None

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            aggregate._handled(self.request_id)
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
            aggregate.skipped_indices = set(self.skipped)
            aggregate.withheld.update(self.skipped)

    class HandoverClaimed(Aggregate.Event):
        """S5: a worker is about to hand ``batches`` batches from ``batch`` on to the carrier
        (see ``domain/handover.py``). ``lease_until`` is wall-clock time: after it, another
        worker may take the batches not yet recorded over. Version 2 added ``batches``; a
        claim stored before it was for one batch."""

        class_version = 2

        batch: int
        claim_id: str
        worker: str
        lease_until: datetime
        batches: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["batches"] = 1

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            aggregate.claim = HandoverClaim(
                self.batch, self.claim_id, self.worker, self.lease_until, self.batches
            )

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
            aggregate.withheld.update(i for i, why in self.failed if why in NEVER_HANDED_OVER)
            aggregate.batch_times.append(self.timestamp)
            aggregate.units_refunded += sum(aggregate.units_of(i) for i in newly_failed)
            if aggregate.claim is not None and aggregate.claim.last == self.batch:
                aggregate.claim = None  # the claim's last batch: all of it is recorded

    class ReceiptsRecorded(Aggregate.Event):
        """Carrier receipts that settled messages (ignored receipts are not recorded)."""

        delivered: list[int]
        failed: list[int]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Send)
            aggregate._set(set(self.delivered), MessageStatus.SUCCESS)
            aggregate._set(set(self.failed), MessageStatus.FAILED)
            aggregate.units_refunded += sum(aggregate.units_of(i) for i in self.failed)

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
        personal: list[dict[str, str]] | None = None,
        unit_counts: str | None = None,
        extension: str | None = None,
    ) -> None:
        self.account_id = account_id
        self.personal = personal
        self.unit_counts = unit_counts
        self.extension = extension
        self.skipped_indices: set[int] = set()
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
        self.claim: HandoverClaim | None = None  # the batch a worker is handing over (S5)
        self.handled: set[str] = set()
        self.withheld: set[int] = set()  # failed before the carrier had them (opted out, S9)

    def __deepcopy__(self, memo: dict[int, Any]) -> Send:
        """The copy the repository's cache hands each command, so that a refused command
        cannot corrupt the cached send. What no event changes after acceptance (the
        recipients, their values, the text) is shared, and sets and lists of plain values
        are copied shallowly: copying 10,000 recipients one by one for every batch, receipt
        round and status query was most of a hand-over's Python time."""
        copy = object.__new__(type(self))
        memo[id(self)] = copy
        for name, value in self.__dict__.items():
            if name in _FIXED_AT_ACCEPTANCE:
                copy.__dict__[name] = value
            elif name in _PLAIN_COLLECTIONS:
                copy.__dict__[name] = type(value)(value)
            else:
                copy.__dict__[name] = deepcopy(value, memo)
        return copy

    @classmethod
    def accept(cls, draft: SendDraft, actor: str, at: datetime) -> Send:
        """A send accepted whole at ``at``. The caller, in the same save, charges
        ``units_charged`` of a send that goes out now, or locks ``units_locked`` of one that
        waits (S6, S8, Q5). With per-recipient variables, ``text`` keeps their placeholders
        and ``personal`` holds each recipient's values (Q6)."""
        if not draft.recipients:
            raise InvalidInput("A send needs at least one recipient.")
        if any(u not in (1, 2) for u in draft.units):
            raise InvalidInput("A message costs 1 or 2 units (Q6).")
        for given in (draft.personal, draft.units):
            if given is not None and len(given) != len(draft.recipients):
                raise InvalidInput("Per-recipient values must be given for every recipient.")
        mixed = len(set(draft.units)) > 1
        scheduled_at = draft.scheduled_at
        return cls._create(
            cls.Accepted,
            id=draft.send_id,
            account_id=str(draft.account_id),
            template_id=str(draft.template_id),
            type=draft.template_type,
            kind=draft.kind,
            product=draft.product,
            text=draft.text,
            units_per_message=draft.units_per_message,
            recipients=list(draft.recipients),
            actor=actor,
            limit_category=draft.limit_category,
            scheduled_at=check_schedule(scheduled_at, at) if scheduled_at else None,
            review_due_at=review_passes_at(at) if draft.provider_review else None,
            personal=[dict(p) for p in draft.personal] if draft.personal is not None else None,
            unit_counts="".join(map(str, draft.units)) if mixed else None,
            extension=draft.extension,
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
        if not self.started:
            return 0
        return self.units_total - sum(self.units_of(i) for i in self.skipped_indices)

    @property
    def units_locked(self) -> int:
        """Held for a waiting send (Q5): every message, until it is submitted or cancelled."""
        return self.units_total if self.waiting else 0

    @property
    def units_total(self) -> int:
        """What all its messages cost together (Q6, priced one by one)."""
        if self.unit_counts is None:
            return self.total * self.units_per_message
        return sum(int(u) for u in self.unit_counts)

    def text_of(self, index: int) -> str:
        """The text recipient ``index`` gets (its own variables filled in)."""
        if self.personal is None:
            return self.text
        return fill_placeholders(self.text, self.personal[index])

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

    def reschedule(
        self, when: datetime, actor: str, now: datetime, request_id: str | None = None
    ) -> None:
        """S7: a new time, while at least an hour remains before the time now scheduled."""
        if self.already_handled(request_id):
            return
        if not self.waiting or self.scheduled_at is None:
            if self.waiting:
                raise NotScheduled(f"Send {self.id} goes out as soon as it is reviewed.")
            raise RescheduleTooLate(f"Send {self.id} is {self.status.value}.")
        if self.scheduled_at - now < RESCHEDULE_NOTICE:
            raise RescheduleTooLate(
                "The time can only be changed while at least 1 hour remains before it (S7)."
            )
        self.trigger_event(
            self.Rescheduled, scheduled_at=check_schedule(when, now), actor=actor,
            request_id=request_id, timestamp=now,
        )  # fmt: skip

    def cancel(self, reason: str, actor: str, at: datetime, request_id: str | None = None) -> int:
        """S7, Q11: cancel before submission; returns the locked units to release (none
        when this very request cancelled it already)."""
        if self.already_handled(request_id):
            return 0
        if not self.waiting:
            raise NotCancellable(
                f"Send {self.id} is {self.status.value}; only a send not yet submitted "
                "can be cancelled."
            )
        units = self.units_locked
        self.trigger_event(
            self.Cancelled, reason=reason, actor=actor, units_released=units,
            request_id=request_id, timestamp=at,
        )  # fmt: skip
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

    def claim_next_batch(
        self,
        claim_id: str,
        worker: str,
        at: datetime,
        lease_until: datetime,
        wall_now: datetime,
        batches: int = 1,
    ) -> BatchClaim:
        """S5: claim the next batch to hand over, and up to ``batches - 1`` after it (see
        ``domain/handover.py``). A batch is held by one claim at a time; this claim again (a
        retried save) gets back what it holds; another's live claim makes it busy until its
        lease (wall clock) runs out."""
        batch = self.next_batch
        if batch is None:
            return BatchClaim(None)
        held = self.claim
        if held is not None and held.covers(batch):
            if held.claim_id == claim_id:
                return BatchClaim(batch, batches=held.last - batch + 1)
            if held.lease_until > wall_now:
                return BatchClaim(None, busy_until=held.lease_until)
        batches = max(1, min(batches, self.batch_count - batch))
        self.trigger_event(
            self.HandoverClaimed, batch=batch, claim_id=claim_id, worker=worker,
            lease_until=lease_until, batches=batches, timestamp=at,
        )  # fmt: skip
        return BatchClaim(batch, batches=batches)

    def outgoing(self, batch: int) -> list[int]:
        """The messages of ``batch`` to give the carrier: those not settled yet (an early
        receipt may have settled some while a claim that is now taken over was held) and not
        skipped at submission (opted out since acceptance)."""
        pending = CODE[MessageStatus.PENDING]
        return [i for i in self.batch_indices(batch) if self.statuses[i] == pending]

    def record_batch(
        self, batch: int, handovers: Sequence[Handover], at: datetime
    ) -> tuple[int, ...]:
        """S5: record the carrier's answers for ``batch``; returns the messages to refund now
        (refused at submission or over a limit: failed at once, Q7). Each batch is recorded
        once, and only after it was claimed (the intent comes before the hand-over)."""
        if batch != self.next_batch:
            raise QuotaConflict(f"Batch {batch} of send {self.id} is not the next to record.")
        if self.claim is None or not self.claim.covers(batch):
            raise QuotaConflict(f"Batch {batch} of send {self.id} was never claimed.")
        answered = [h.index for h in handovers]
        own = set(self.batch_indices(batch))
        pending = {i for i in own if self.statuses[i] == CODE[MessageStatus.PENDING]}
        if len(set(answered)) != len(answered) or not pending <= set(answered) <= own:
            raise InvalidInput(
                f"Batch {batch} must answer once for each of its messages still pending "
                "(and for no other batch's)."
            )
        sent = [[h.index, h.carrier_message_id] for h in handovers if h.carrier_message_id]
        failed = [
            [h.index, h.failure or "carrier_refused"] for h in handovers if not h.carrier_message_id
        ]
        # a message an early receipt already settled is not failed (nor refunded) again
        refunds = tuple(
            h.index for h in handovers if not h.carrier_message_id and h.index in pending
        )
        self.trigger_event(self.BatchSubmitted, batch=batch, sent=sent, failed=failed, timestamp=at)
        return refunds

    def handed_over(self, index: int) -> bool:
        """Whether the carrier may have message ``index``: its batch was claimed (it may be
        with the carrier) or recorded, and it was not withheld (skipped, over a limit)."""
        if not self.started or self.cancelled or index in self.withheld:
            return False
        batch = index // BATCH_SIZE
        claimed = self.claim is not None and self.claim.covers(batch)
        return batch < len(self.batch_times) or claimed

    def record_receipts(
        self, receipts: Sequence[CarrierReceipt], at: datetime
    ) -> ReceiptSettlement:
        """S10, Q7: settle messages from the carrier's receipts. A receipt counts only for a
        message the carrier was handed and that is not final; every other one is answered
        ``ignored`` with its reason and moves nothing (see ``domain/carrier_input.py``)."""
        delivered: list[int] = []
        failed: list[int] = []
        seen: set[int] = set()
        results: list[ReceiptResult] = []
        for receipt in receipts:
            index, status = receipt.index, receipt.status
            ignored = self._ignores(index, status, seen)
            if ignored is not None:
                now = self.message_status(index).value if 0 <= index < self.total else None
                results.append(ReceiptResult(index, now, ignored))
                continue
            seen.add(index)
            if status == DELIVERED:
                delivered.append(index)
                results.append(ReceiptResult(index, MessageStatus.SUCCESS.value))
            else:
                failed.append(index)
                results.append(
                    ReceiptResult(index, MessageStatus.FAILED.value, None, self.units_of(index))
                )
        if delivered or failed:
            self.trigger_event(
                self.ReceiptsRecorded, delivered=delivered, failed=failed, timestamp=at
            )
        return ReceiptSettlement(tuple(results), tuple(failed))

    def units_of(self, index: int) -> int:
        """What message ``index`` costs (Q6)."""
        if self.unit_counts is None:
            return self.units_per_message
        return int(self.unit_counts[index])

    def expire(self, now: datetime) -> int:
        """Q8: messages still without a receipt 72 hours after their batch went out become
        unknown (and stay charged); returns how many."""
        overdue = [
            index
            for batch, handed_at in enumerate(self.batch_times)
            if now - handed_at >= UNKNOWN_AFTER
            for index in self.batch_indices(batch)
            if self.statuses[index] == CODE[MessageStatus.SENDING]
        ]
        if overdue:
            self.trigger_event(self.MessagesExpired, indices=overdue, timestamp=now)
        return len(overdue)

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

    def _ignores(self, index: int, status: str, seen: set[int]) -> IgnoredBecause | None:
        """Why a receipt for message ``index`` moves nothing, or None when it settles it."""
        if not 0 <= index < self.total:
            return IgnoredBecause.UNKNOWN_MESSAGE
        if status not in RECEIPT_STATUSES:
            return IgnoredBecause.MALFORMED
        if not self.handed_over(index):
            return IgnoredBecause.NOT_HANDED_OVER
        if index in seen:
            return IgnoredBecause.DUPLICATE
        code = self.statuses[index]
        if code not in FINAL:
            return None
        same = CODE[MessageStatus.SUCCESS if status == DELIVERED else MessageStatus.FAILED]
        return IgnoredBecause.DUPLICATE if code == same else IgnoredBecause.ALREADY_FINAL

    def _set(self, indices: set[int], status: MessageStatus) -> None:
        if not indices:
            return
        code = CODE[status]
        chars = list(self.statuses)
        for index in indices:
            chars[index] = code
        self.statuses = "".join(chars)

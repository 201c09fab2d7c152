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

from .errors import InvalidInput, QuotaConflict

BATCH_SIZE = 100  # S5
UNKNOWN_AFTER = timedelta(hours=72)  # Q8


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
    ) -> None:
        self.account_id = account_id
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
    ) -> Send:
        """A send accepted whole; the caller charges ``units_charged`` in the same save."""
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
            timestamp=at,
        )

    # -- queries ------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return len(self.recipients)

    @property
    def units_charged(self) -> int:
        return self.total * self.units_per_message

    @property
    def batch_count(self) -> int:
        return -(-self.total // BATCH_SIZE)

    @property
    def next_batch(self) -> int | None:
        """The first batch not yet handed over, or None when all are."""
        done = len(self.batch_times)
        return done if done < self.batch_count else None

    def batch_indices(self, batch: int) -> range:
        return range(batch * BATCH_SIZE, min((batch + 1) * BATCH_SIZE, self.total))

    @property
    def status(self) -> SendStatus:
        if self.next_batch is not None:
            return SendStatus.SUBMITTING
        if all(code in FINAL for code in self.statuses):
            return SendStatus.COMPLETED
        return SendStatus.SUBMITTED

    def message_status(self, index: int) -> MessageStatus:
        return STATUS[self.statuses[index]]

    def counts(self) -> dict[str, int]:
        return {status.value: self.statuses.count(CODE[status]) for status in MessageStatus}

    # -- commands -----------------------------------------------------------------------

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

    def _set(self, indices: set[int], status: MessageStatus) -> None:
        if not indices:
            return
        code = CODE[status]
        chars = list(self.statuses)
        for index in indices:
            chars[index] = code
        self.statuses = "".join(chars)

"""A message's status and id, and a send's status (S10): the words every context shares.

Each message's status is one character of its send's ``statuses`` (``CODE``), so a
10,000-recipient send stays a small aggregate. Message ids are derived, never stored:
``<send id>.<index>``.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from .recipient_limits import RATE_LIMITED

OPTED_OUT = "opted_out"  # why a message of a marketing send was skipped
NEVER_HANDED_OVER = {OPTED_OUT, RATE_LIMITED}  # failures decided before the carrier had it


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

"""What the carrier tells us about messages, and what each report did (S10, Q7, Q8).

A real carrier is concurrent, late, duplicated, out of order, and reports on things it was
never given. So every receipt is answered on its own: ``recorded`` when it settled a message
the carrier was handed that was not final yet, otherwise ``ignored`` with a reason, moving
nothing. A late receipt after Q8's 72 hours finds the message ``unknown``, which is final:
it stays charged and the receipt is ignored (``already_final``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DELIVERED = "delivered"
FAILED = "failed"
RECEIPT_STATUSES = (DELIVERED, FAILED)


class IgnoredBecause(StrEnum):
    """Why a receipt moved nothing."""

    NOT_HANDED_OVER = "not_handed_over"  # waiting, cancelled, skipped, not yet claimed
    ALREADY_FINAL = "already_final"  # final with another status (or unknown, Q8)
    DUPLICATE = "duplicate"  # the message already has this outcome (or earlier in the body)
    UNKNOWN_MESSAGE = "unknown_message"  # the id names no message of ours
    MALFORMED = "malformed"  # not a receipt: missing or wrong fields
    PLATFORM_NOTICE = "platform_notice"  # our own alert SMS (Q9): nothing to settle


@dataclass(frozen=True)
class CarrierReceipt:
    """One receipt about message ``index`` of a send: ``delivered`` or ``failed``."""

    index: int
    status: str


@dataclass(frozen=True)
class ReceiptResult:
    """What one receipt did to its message."""

    index: int
    status: str | None  # the message's status afterwards; None when there is no message
    ignored: IgnoredBecause | None = None
    refunded_units: int = 0

    @property
    def recorded(self) -> bool:
        return self.ignored is None


@dataclass(frozen=True)
class ReceiptSettlement:
    """The answers for a send's receipts, in their order, and the messages to refund (Q7)."""

    results: tuple[ReceiptResult, ...]
    refunds: tuple[int, ...]  # indices of the messages that failed now: refund each once

    @property
    def refunded_units(self) -> int:
        return sum(r.refunded_units for r in self.results)

    @property
    def changed(self) -> bool:
        return any(r.recorded for r in self.results)

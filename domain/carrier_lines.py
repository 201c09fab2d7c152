"""A posted body of receipts, one line at a time, as the edge reads it (S10).

A line is a ``ReportedReceipt`` (a message id and ``delivered`` or ``failed``, with a valid
time if it gives one) or a ``MalformedReceipt``, answered ``ignored``/``malformed`` on its
own: one bad line never sinks the rest of the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .carrier_input import RECEIPT_STATUSES
from .time_range import BEIJING_OFFSET, in_range

RECEIPT_FIELDS = {"message_id", "status", "at"}


@dataclass(frozen=True)
class ReportedReceipt:
    """A well-formed receipt line: a message id and ``delivered`` or ``failed``."""

    message_id: str
    status: str


@dataclass(frozen=True)
class MalformedReceipt:
    """A line that is not a receipt of the contract's shape (answered ``malformed``)."""

    message_id: str | None


ReceiptLine = ReportedReceipt | MalformedReceipt


def read_receipt(item: object) -> ReceiptLine:
    """One line of a posted body, as the edge reads it (fields, status and time checked)."""
    ident = item.get("message_id") if isinstance(item, Mapping) else None
    shown = ident if isinstance(ident, str) else None
    if not isinstance(item, Mapping) or not set(item) <= RECEIPT_FIELDS or shown is None:
        return MalformedReceipt(shown)
    status = item.get("status")
    if not isinstance(status, str) or status not in RECEIPT_STATUSES:
        return MalformedReceipt(shown)
    if not _is_time(item.get("at")):
        return MalformedReceipt(shown)
    return ReportedReceipt(shown, status)


def _is_time(value: object) -> bool:
    """A receipt's ``at``, when given, is an ISO 8601 time (the carrier's own clock)."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return False
    return in_range(at if at.tzinfo else at.replace(tzinfo=BEIJING_OFFSET))

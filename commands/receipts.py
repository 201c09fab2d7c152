"""Carrier receipts in, one answer per receipt out (S10, Q7, Q8, Q9).

A body of receipts from the carrier is read one receipt at a time: a malformed one, or one
naming no message of ours, is answered ``ignored`` and never sinks the others. The rest are
grouped by send and settled on the send (``SendLifecycle.record_receipts``), which answers
each: ``recorded``, or ``ignored`` because the message was never handed over, is final
already, or is named twice. A receipt for our own low-balance SMS (``alert.<id>``) settles
nothing: it is answered ``platform_notice`` if that SMS was handed over, else as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from ..domain.alert_sms import ALERT_PREFIX
from ..domain.carrier_input import RECEIPT_STATUSES, CarrierReceipt, IgnoredBecause
from ..domain.errors import NotFound
from ..domain.sending import parse_message_id
from ..domain.time_range import BEIJING_OFFSET, in_range
from .send_lifecycle import SendLifecycle

RECEIPT_FIELDS = {"message_id", "status", "at"}
DUPLICATES = {IgnoredBecause.DUPLICATE, IgnoredBecause.ALREADY_FINAL}


class AlertRecords(Protocol):
    def handed_over(self, alert_id: str) -> bool:
        """Whether the alert SMS ``alert_id`` was handed to the carrier."""
        ...


@dataclass(frozen=True)
class ReceiptAnswer:
    """What one receipt of a body did."""

    index: int  # its position in the body
    message_id: str | None
    status: str | None  # the message's status afterwards; None when there is no message
    ignored: IgnoredBecause | None = None
    refunded_units: int = 0

    @property
    def outcome(self) -> str:
        return "recorded" if self.ignored is None else "ignored"


@dataclass(frozen=True)
class ReceiptsOutcome:
    answers: tuple[ReceiptAnswer, ...]

    @property
    def recorded(self) -> int:
        return sum(1 for a in self.answers if a.ignored is None)

    @property
    def ignored(self) -> int:
        return len(self.answers) - self.recorded

    @property
    def duplicates(self) -> int:
        return sum(1 for a in self.answers if a.ignored in DUPLICATES)

    @property
    def refunded_units(self) -> int:
        return sum(a.refunded_units for a in self.answers)

    def rejected(self) -> list[dict[str, str]]:
        """The receipts that are not receipts of ours (the answer's older, short form)."""
        codes = {IgnoredBecause.MALFORMED: "validation_error",
                 IgnoredBecause.UNKNOWN_MESSAGE: "not_found"}  # fmt: skip
        return [
            {"message_id": a.message_id or "", "code": codes[a.ignored]}
            for a in self.answers
            if a.ignored in codes
        ]


class ReceiptRecorder:
    def __init__(self, lifecycle: SendLifecycle, alerts: AlertRecords) -> None:
        self.lifecycle = lifecycle
        self.alerts = alerts

    def record(self, items: Sequence[object]) -> ReceiptsOutcome:
        """Settle what ``items`` (the body's receipts, as posted) say; one answer each."""
        answers: dict[int, ReceiptAnswer] = {}
        by_send: dict[UUID, list[tuple[int, str, CarrierReceipt]]] = {}
        for position, item in enumerate(items):
            parsed = _parse(item)
            if isinstance(parsed, ReceiptAnswer):
                answers[position] = ReceiptAnswer(position, parsed.message_id, None,
                                                  parsed.ignored)  # fmt: skip
                continue
            ident, status = parsed
            target = parse_message_id(ident)
            if ident.startswith(ALERT_PREFIX):
                answers[position] = self._alert(position, ident)
            elif target is None:
                answers[position] = ReceiptAnswer(position, ident, None,
                                                  IgnoredBecause.UNKNOWN_MESSAGE)  # fmt: skip
            else:
                receipt = CarrierReceipt(target[1], status)
                by_send.setdefault(target[0], []).append((position, ident, receipt))
        for send_id, receipts in by_send.items():
            answers.update(self._settle(send_id, receipts))
        return ReceiptsOutcome(tuple(answers[p] for p in range(len(items))))

    def _settle(
        self, send_id: UUID, receipts: list[tuple[int, str, CarrierReceipt]]
    ) -> dict[int, ReceiptAnswer]:
        try:
            settled = self.lifecycle.record_receipts(send_id, [r for _, _, r in receipts])
        except NotFound:
            return {
                position: ReceiptAnswer(position, ident, None, IgnoredBecause.UNKNOWN_MESSAGE)
                for position, ident, _ in receipts
            }
        return {
            position: ReceiptAnswer(
                position, ident, result.status, result.ignored, result.refunded_units
            )
            for (position, ident, _), result in zip(receipts, settled.results, strict=True)
        }

    def _alert(self, position: int, ident: str) -> ReceiptAnswer:
        known = self.alerts.handed_over(ident.removeprefix(ALERT_PREFIX))
        why = IgnoredBecause.PLATFORM_NOTICE if known else IgnoredBecause.UNKNOWN_MESSAGE
        return ReceiptAnswer(position, ident, None, why)


def _parse(item: object) -> tuple[str, str] | ReceiptAnswer:
    """(message id, status) of a well-formed receipt, or its ``malformed`` answer."""
    ident = item.get("message_id") if isinstance(item, Mapping) else None
    shown = ident if isinstance(ident, str) else None
    if not isinstance(item, Mapping) or not set(item) <= RECEIPT_FIELDS or shown is None:
        return ReceiptAnswer(-1, shown, None, IgnoredBecause.MALFORMED)
    status = item.get("status")
    if status not in RECEIPT_STATUSES or not _is_time(item.get("at")):
        return ReceiptAnswer(-1, shown, None, IgnoredBecause.MALFORMED)
    assert isinstance(status, str)
    return shown, status


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

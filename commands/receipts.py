"""Carrier receipts in, one answer per receipt out (S10, Q7, Q8, Q9).

A body of receipts from the carrier is read one receipt at a time: a malformed one, or one
naming no message of ours, is answered ``ignored`` and never sinks the others. The rest are
grouped by send and settled on the send, those refunding nothing together in one save
(``SendLifecycle.record_receipts_together``), the others one by one with their refunds
(``record_receipts``). Each receipt is answered ``recorded``, or ``ignored`` because the
message was never handed over, is final already, or is named twice. A receipt for our own
low-balance SMS (``alert.<id>``) settles nothing: it is answered ``platform_notice`` if that
SMS was handed over, else as unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, TypeVar
from uuid import UUID

from ..domain.alert_sms import ALERT_PREFIX
from ..domain.carrier_input import CarrierReceipt, IgnoredBecause, ReceiptSettlement
from ..domain.carrier_lines import MalformedReceipt, ReportedReceipt, read_receipt
from ..domain.errors import NotFound
from ..domain.sending import parse_message_id
from .command_types import RecordReceipts
from .receipt_answers import ReceiptAnswer, ReceiptsOutcome

__all__ = ["ReceiptRecorder", "ReportedReceipt", "read_receipt"]
from .send_lifecycle import SendLifecycle

T = TypeVar("T")
SENDS_TOGETHER = 200  # sends settled in one save, when their receipts refund nothing


class AlertRecords(Protocol):
    def handed_over(self, alert_id: str) -> bool:
        """Whether the alert SMS ``alert_id`` was handed to the carrier."""
        ...


class ReceiptRecorder:
    def __init__(self, lifecycle: SendLifecycle, alerts: AlertRecords) -> None:
        self.lifecycle = lifecycle
        self.alerts = alerts

    def record(self, command: RecordReceipts) -> ReceiptsOutcome:
        """Settle what the body's lines say; one answer each, in the body's order."""
        answers: dict[int, ReceiptAnswer] = {}
        by_send: dict[UUID, list[tuple[int, str, CarrierReceipt]]] = {}
        for position, line in enumerate(command.lines):
            match line:
                case MalformedReceipt(ident):
                    answers[position] = ReceiptAnswer(position, ident, None,
                                                      IgnoredBecause.MALFORMED)  # fmt: skip
                case ReportedReceipt(ident, _) if ident.startswith(ALERT_PREFIX):
                    answers[position] = self._alert(position, ident)
                case ReportedReceipt(ident, status):
                    target = parse_message_id(ident)
                    if target is None:
                        answers[position] = ReceiptAnswer(
                            position, ident, None, IgnoredBecause.UNKNOWN_MESSAGE
                        )
                        continue
                    receipt = CarrierReceipt(target[1], status)
                    by_send.setdefault(target[0], []).append((position, ident, receipt))
        for chunk in _chunks(list(by_send), SENDS_TOGETHER):
            together, left = self.lifecycle.record_receipts_together(
                {send_id: [r for _, _, r in by_send[send_id]] for send_id in chunk}
            )
            for send_id, settled in together.items():
                answers.update(_answers(by_send[send_id], settled))
            for send_id in left:
                answers.update(self._settle(send_id, by_send[send_id]))
        return ReceiptsOutcome(tuple(answers[p] for p in range(len(command.lines))))

    def _settle(
        self, send_id: UUID, receipts: list[tuple[int, str, CarrierReceipt]]
    ) -> dict[int, ReceiptAnswer]:
        """One send's receipts, settled together in one save with the refunds they make
        (``SendLifecycle``)."""
        try:
            settled = self.lifecycle.record_receipts(send_id, [r for _, _, r in receipts])
        except NotFound:
            return {
                position: ReceiptAnswer(position, ident, None, IgnoredBecause.UNKNOWN_MESSAGE)
                for position, ident, _ in receipts
            }
        return _answers(receipts, settled)

    def _alert(self, position: int, ident: str) -> ReceiptAnswer:
        known = self.alerts.handed_over(ident.removeprefix(ALERT_PREFIX))
        why = IgnoredBecause.PLATFORM_NOTICE if known else IgnoredBecause.UNKNOWN_MESSAGE
        return ReceiptAnswer(position, ident, None, why)


def _answers(
    receipts: list[tuple[int, str, CarrierReceipt]], settled: ReceiptSettlement
) -> dict[int, ReceiptAnswer]:
    return {
        position: ReceiptAnswer(
            position, ident, result.status, result.ignored, result.refunded_units
        )
        for (position, ident, _), result in zip(receipts, settled.results, strict=True)
    }


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

"""What each receipt of a body did, and the body's sums (the answer to the carrier)."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.carrier_input import IgnoredBecause

DUPLICATES = {IgnoredBecause.DUPLICATE, IgnoredBecause.ALREADY_FINAL}


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

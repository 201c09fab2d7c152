"""Recipient lists for mass sends (S1, S2): parsed, normalised, deduplicated, each refusal kept.

Numbers are checked by ``phones.parse_mainland_mobile`` (Google's libphonenumber). A list is
refused whole only when it is too long or holds no number at all; otherwise every input that
is not a mainland mobile comes back in ``rejected`` with its own code and position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import DomainError, InvalidInput
from .phones import parse_mainland_mobile

MAX_RECIPIENTS = 10_000  # S2


class TooManyRecipients(DomainError):
    code = "too_many_recipients"
    title = "Too many recipients"


@dataclass(frozen=True)
class RejectedInput:
    """One input that is not a recipient: what was given, where, and why."""

    input: str
    code: str  # invalid_phone or not_mainland_mobile
    reason: str
    position: int  # 1-based line (typed text), index (list) or row (Excel)


@dataclass(frozen=True)
class RecipientList:
    accepted: tuple[str, ...]  # 11-digit national numbers, first occurrence order
    rejected: tuple[RejectedInput, ...]
    duplicates: int  # inputs dropped because the number was already in the list


def parse_recipients(inputs: Iterable[tuple[int, str]]) -> RecipientList:
    """Parse ``(position, text)`` inputs; blank ones are skipped (S1, S2)."""
    given = [(p, t.strip()) for p, t in inputs if isinstance(t, str) and t.strip()]
    if len(given) > MAX_RECIPIENTS:
        raise TooManyRecipients(
            f"At most {MAX_RECIPIENTS} numbers can be sent to at once; got {len(given)} (S2)."
        )
    accepted: dict[str, None] = {}
    rejected: list[RejectedInput] = []
    duplicates = 0
    for position, text in given:
        try:
            number = parse_mainland_mobile(text)
        except DomainError as refused:
            rejected.append(RejectedInput(text, refused.code, refused.detail, position))
            continue
        if number in accepted:
            duplicates += 1
        else:
            accepted[number] = None
    if not given:
        raise InvalidInput("The send has no recipients.")
    return RecipientList(tuple(accepted), tuple(rejected), duplicates)


def from_list(numbers: Iterable[object]) -> RecipientList:
    """``recipients: [...]`` in a request; positions are 1-based indexes."""
    return parse_recipients(
        (i, n if isinstance(n, str) else str(n)) for i, n in enumerate(numbers, 1)
    )


def from_text(text: str) -> RecipientList:
    """``recipients_text``: one number per line, as typed (S2); positions are line numbers."""
    return parse_recipients(enumerate(text.splitlines(), 1))

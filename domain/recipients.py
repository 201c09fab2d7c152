"""Recipient lists for mass sends (S1, S2): parsed, normalised, deduplicated, each refusal kept.

Numbers are checked by ``phones.parse_mainland_mobile`` (Google's libphonenumber). A list is
refused whole only when it is too long or holds no number at all; otherwise every input that
is not a mainland mobile comes back in ``rejected`` with its own code and position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .audience import Condition
from .errors import DomainError, InvalidInput
from .phones import parse_mainland_mobile

MAX_RECIPIENTS = 10_000  # S2
OPTED_OUT = "opted_out"


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
    positions: tuple[int, ...] = ()  # where each accepted number was given

    def without(self, opted_out: set[str]) -> RecipientList:
        """The list less the numbers that opted out of marketing, each moved to ``rejected``
        with code ``opted_out`` (they are skipped and cost nothing)."""
        if not opted_out:
            return self
        positions = self.positions or tuple(range(1, len(self.accepted) + 1))
        kept = [(n, p) for n, p in zip(self.accepted, positions, strict=True) if n not in opted_out]
        skipped = [
            RejectedInput(n, OPTED_OUT, "The number opted out of this account's marketing.", p)
            for n, p in zip(self.accepted, positions, strict=True)
            if n in opted_out
        ]
        return RecipientList(
            tuple(n for n, _ in kept),
            (*self.rejected, *skipped),
            self.duplicates,
            tuple(p for _, p in kept),
        )


def parse_recipients(inputs: Iterable[tuple[int, str]]) -> RecipientList:
    """Parse ``(position, text)`` inputs; blank ones are skipped (S1, S2)."""
    given = [(p, t.strip()) for p, t in inputs if isinstance(t, str) and t.strip()]
    if len(given) > MAX_RECIPIENTS:
        raise TooManyRecipients(
            f"At most {MAX_RECIPIENTS} numbers can be sent to at once; got {len(given)} (S2)."
        )
    accepted: dict[str, int] = {}
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
            accepted[number] = position
    if not given:
        raise InvalidInput("The send has no recipients.")
    return RecipientList(tuple(accepted), tuple(rejected), duplicates, tuple(accepted.values()))


def from_list(numbers: Iterable[object]) -> RecipientList:
    """``recipients: [...]`` in a request; positions are 1-based indexes."""
    return parse_recipients(
        (i, n if isinstance(n, str) else str(n)) for i, n in enumerate(numbers, 1)
    )


def from_text(text: str) -> RecipientList:
    """``recipients_text``: one number per line, as typed (S2); positions are line numbers."""
    return parse_recipients(enumerate(text.splitlines(), 1))


def from_audience(numbers: Sequence[str]) -> RecipientList:
    """S4: the numbers of the account's synced customers, frozen into the send. They were
    checked when synced; more than 10,000 is refused like any other list (S2)."""
    if not numbers:
        raise InvalidInput("No synced customer meets the audience's conditions.")
    return parse_recipients(enumerate(numbers, 1))


def audience_conditions(audience: object) -> list[str]:
    """``{"conditions": [...]}`` of a send's audience (S4), checked and deduplicated."""
    choices = ", ".join(c.value for c in Condition)
    if not isinstance(audience, dict):
        raise InvalidInput(f"audience needs conditions: a list of one or more of {choices}.")
    conditions = audience.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        raise InvalidInput(f"audience needs conditions: a list of one or more of {choices}.")
    unknown = [c for c in conditions if c not in {x.value for x in Condition}]
    if unknown or set(audience) != {"conditions"}:
        raise InvalidInput(f"audience conditions are {choices}; got {conditions!r}.")
    return list(dict.fromkeys(str(c) for c in conditions))

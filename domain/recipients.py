"""Recipient lists for mass sends (S1, S2): parsed, normalised, deduplicated, each refusal kept.

Numbers are checked by ``phones.parse_mainland_mobile`` (Google's libphonenumber). A list is
refused whole only when it is too long or holds no number at all; otherwise every input that
is not a mainland mobile comes back in ``rejected`` with its own code and position.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .audience import Condition
from .errors import DomainError, FieldProblem, InvalidInput
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


NO_VARIABLES: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True)
class RecipientInput:
    """One recipient as given: where, the number as typed, and its own variables (a name for
    ``#name#``, ...), which go over the send's shared ones."""

    position: int
    text: str
    variables: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RecipientList:
    accepted: tuple[str, ...]  # 11-digit national numbers, first occurrence order
    rejected: tuple[RejectedInput, ...]
    duplicates: int  # inputs dropped because the number was already in the list
    positions: tuple[int, ...] = ()  # where each accepted number was given
    personal: tuple[Mapping[str, object], ...] = ()  # each accepted number's own variables

    def variables_of(self, index: int) -> Mapping[str, object]:
        return self.personal[index] if self.personal else NO_VARIABLES

    def position_of(self, index: int) -> int:
        return self.positions[index] if self.positions else index + 1

    def keep(self, indices: Sequence[int], dropped: Sequence[RejectedInput]) -> RecipientList:
        """The list of only the accepted numbers at ``indices``, the others refused as
        ``dropped`` says."""
        return replace(
            self,
            accepted=tuple(self.accepted[i] for i in indices),
            positions=tuple(self.position_of(i) for i in indices),
            personal=tuple(self.variables_of(i) for i in indices) if self.personal else (),
            rejected=(*self.rejected, *dropped),
        )

    def without(self, opted_out: set[str]) -> RecipientList:
        """The list less the numbers that opted out of marketing, each moved to ``rejected``
        with code ``opted_out`` (they are skipped and cost nothing)."""
        if not opted_out:
            return self
        kept = [i for i, n in enumerate(self.accepted) if n not in opted_out]
        skipped = [
            RejectedInput(
                n,
                OPTED_OUT,
                "The number opted out of this account's marketing.",
                self.position_of(i),
            )
            for i, n in enumerate(self.accepted)
            if n in opted_out
        ]
        return self.keep(kept, skipped)


def parse_recipients(inputs: Iterable[tuple[int, str] | RecipientInput]) -> RecipientList:
    """Parse recipients as given; blank ones are skipped, a number given twice is sent to
    once (its first variables kept) (S1, S2)."""
    given = [
        g if isinstance(g, RecipientInput) else RecipientInput(g[0], g[1])
        for g in inputs
        if isinstance(g, RecipientInput) or (isinstance(g[1], str) and g[1].strip())
    ]
    given = [replace(g, text=g.text.strip()) for g in given if g.text.strip()]
    if len(given) > MAX_RECIPIENTS:
        raise TooManyRecipients(
            f"At most {MAX_RECIPIENTS} numbers can be sent to at once; got {len(given)} (S2)."
        )
    accepted: dict[str, RecipientInput] = {}
    rejected: list[RejectedInput] = []
    duplicates = 0
    for one in given:
        try:
            number = parse_mainland_mobile(one.text)
        except DomainError as refused:
            rejected.append(RejectedInput(one.text, refused.code, refused.detail, one.position))
            continue
        if number in accepted:
            duplicates += 1
        else:
            accepted[number] = one
    if not given:
        raise InvalidInput("The send has no recipients.", field="recipients")
    personal = tuple(g.variables for g in accepted.values())
    return RecipientList(
        tuple(accepted), tuple(rejected), duplicates,
        tuple(g.position for g in accepted.values()),
        personal if any(personal) else (),
    )  # fmt: skip


def from_list(items: Iterable[object]) -> RecipientList:
    """``recipients: [...]`` in a request: numbers, or ``{phone, variables}`` objects whose
    variables are that recipient's own; positions are 1-based indexes."""
    return parse_recipients(_recipient_item(i, item) for i, item in enumerate(items, 1))


def _recipient_item(position: int, item: object) -> RecipientInput:
    if not isinstance(item, Mapping):
        return RecipientInput(position, item if isinstance(item, str) else str(item))
    phone, variables = item.get("phone"), item.get("variables", NO_VARIABLES)
    if set(item) - {"phone", "variables"} or not isinstance(phone, str | int):
        message = f"Recipient {position} must be a number or {{phone, variables}}."
        where = f"recipients.{position - 1}"
    elif not isinstance(variables, Mapping):
        message = f"Recipient {position}'s variables must be an object."
        where = f"recipients.{position - 1}.variables"
    else:
        return RecipientInput(position, str(phone), dict(variables))
    raise InvalidInput(message, [FieldProblem(where, "validation_error", message)])


def from_text(text: str) -> RecipientList:
    """``recipients_text``: one number per line, as typed (S2); positions are line numbers."""
    return parse_recipients(enumerate(text.splitlines(), 1))


def from_audience(customers: Sequence[tuple[str, Mapping[str, object]]]) -> RecipientList:
    """S4: the numbers of the account's synced customers, frozen into the send, each with
    its own variables (its name). They were checked when synced; more than 10,000 is refused
    like any other list (S2)."""
    if not customers:
        raise InvalidInput(
            "No synced customer meets the audience's conditions.", field="audience.conditions"
        )
    return parse_recipients(
        RecipientInput(i, phone, variables) for i, (phone, variables) in enumerate(customers, 1)
    )


def audience_conditions(audience: object) -> list[str]:
    """``{"conditions": [...]}`` of a send's audience (S4), checked and deduplicated."""
    choices = ", ".join(c.value for c in Condition)
    if not isinstance(audience, dict):
        raise InvalidInput(
            f"audience needs conditions: a list of one or more of {choices}.",
            field="audience.conditions",
        )
    conditions = audience.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        raise InvalidInput(
            f"audience needs conditions: a list of one or more of {choices}.",
            field="audience.conditions",
        )
    unknown = [c for c in conditions if c not in {x.value for x in Condition}]
    if unknown or set(audience) != {"conditions"}:
        raise InvalidInput(
            f"audience conditions are {choices}; got {conditions!r}.", field="audience.conditions"
        )
    return list(dict.fromkeys(str(c) for c in conditions))


# Column headers that fill a placeholder besides its own name: the Excel template's 姓名
# column fills #name# (S3). Headers are compared without case, spaces or #…#.
COLUMN_ALIASES: dict[str, str] = {
    "姓名": "name",
    "名字": "name",
    "称呼": "name",
    "客户姓名": "name",
    "验证码": "code",
    "订单号": "order",
    "订单": "order",
}


def variables_from_columns(
    columns: Mapping[str, str], placeholders: Sequence[str]
) -> dict[str, str]:
    """A recipient's own variables from its row's other cells: a column headed like one of the
    template's placeholders (``name``, ``#name#``, or an alias such as 姓名) fills it; blank
    cells and other columns are left out (the send's shared variables apply)."""
    wanted = set(placeholders)
    found: dict[str, str] = {}
    for header, value in columns.items():
        key = "".join(header.lower().split()).strip("#")
        name = key if key in wanted else COLUMN_ALIASES.get(key)
        if name in wanted and value.strip() and name not in found:
            found[name] = value.strip()
    return found

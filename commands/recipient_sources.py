"""Where a mass send's recipients come from: exactly one source, chosen at the edge (S2–S4).

The HTTP routes, the Excel import and Kafka each build one of these from what they were
given (an upload stays bytes until the sending service reads it through ``RecipientSheets``);
the sending service turns it into a ``RecipientList`` with each recipient's own
variables (a name for ``#name#``) where the source has them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Numbers:
    """``recipients``: numbers, or ``{phone, variables}`` objects with their own variables."""

    items: Sequence[object]


@dataclass(frozen=True)
class TypedNumbers:
    """``recipients_text``: one number per line, as typed (S2)."""

    text: str


class SheetRow(Protocol):
    """A row of an imported Excel file with a number in it (S3)."""

    @property
    def row(self) -> int: ...

    @property
    def phone(self) -> str: ...

    @property
    def columns(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class SheetRows:
    """The rows of an Excel file; columns headed like the template's placeholders (姓名 for
    ``#name#``) fill each recipient's own variables."""

    rows: Sequence[SheetRow]


@dataclass(frozen=True)
class SpreadsheetFile:
    """An uploaded .xlsx, read by the ``RecipientSheets`` port into ``SheetRows``."""

    content: bytes


class RecipientSheets(Protocol):
    """Reads an uploaded recipient file (S3); refuses it whole with a ``DomainError``
    (``domain/recipient_files.py``)."""

    def read(self, content: bytes) -> Sequence[SheetRow]: ...

    def template(self) -> bytes:
        """The .xlsx users download to fill in."""
        ...


@dataclass(frozen=True)
class Audience:
    """``audience``: the account's synced customers meeting any of the conditions (S4); a
    customer's name fills ``#name#``."""

    conditions: object


RecipientSource = Numbers | TypedNumbers | SheetRows | SpreadsheetFile | Audience

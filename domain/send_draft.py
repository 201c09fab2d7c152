"""A send as the sending service composed it, before it is accepted (S1–S6, Q6).

Everything ``Send.accept`` needs, in one value: the template's type and kind, the priced text
(with per-recipient placeholders when ``personal`` is given), each recipient's units, and
whether the provider reviews it first (S8). The instant of acceptance is not part of it: the
quota's writer accepts the draft at the instant of the transaction that takes its units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class SendDraft:
    send_id: UUID
    account_id: UUID
    template_id: UUID
    template_type: str  # business | mass
    kind: str | None  # notice | marketing | verification
    product: str | None  # which of the account's products spends the units (Q4)
    text: str
    recipients: tuple[str, ...]
    units: tuple[int, ...]  # what each recipient's message costs (Q6), in recipient order
    personal: Sequence[Mapping[str, str]] | None = None  # each recipient's own variables
    limit_category: str | None = None  # S9: the per-recipient limits that apply
    provider_review: bool = False  # S8: marketing waits for the provider's review
    scheduled_at: datetime | None = None  # S6
    extension: str | None = None  # the account's code after the carrier's source_addr

    @property
    def units_per_message(self) -> int:
        """The most one message costs (1 or 2)."""
        return max(self.units, default=0)

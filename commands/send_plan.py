"""What a send costs and does: the dry run's plan, the priced messages, the accepted send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..domain.recipients import RecipientList, RejectedInput
from ..domain.send_draft import SendDraft
from ..domain.sending import Send


@dataclass(frozen=True)
class SendPlan:
    """What a send would do (the dry run), or what an accepted one does."""

    accepted: int
    units: int
    units_per_message: int  # the most one message costs (1 or 2, Q6)
    available: int
    rejected: tuple[RejectedInput, ...]
    duplicates: int
    text: str  # with per-recipient variables: the text with their placeholders
    rate_limited: tuple[str, ...] = ()  # S9: numbers the per-recipient limits would fail
    scheduled_at: datetime | None = None  # S6
    review_due_at: datetime | None = None  # S8: when the provider's review passes
    goes_out_at: datetime | None = None  # the later of now, the schedule and the review
    messages_by_units: dict[int, int] = field(default_factory=dict)  # Q6: {1: n, 2: m}


@dataclass(frozen=True)
class Priced:
    """Each accepted recipient's message priced (Q6): one text for all, or a text with the
    per-recipient placeholders and each recipient's values for them."""

    text: str
    units: tuple[int, ...]
    personal: tuple[dict[str, str], ...] | None = None

    def by_units(self) -> dict[int, int]:
        return {u: self.units.count(u) for u in sorted(set(self.units))}


@dataclass(frozen=True)
class MassPlan:
    """A validated mass send: its template, recipients, priced messages and plan."""

    draft: SendDraft  # what accepting it stores
    recipients: RecipientList
    priced: Priced
    plan: SendPlan


@dataclass(frozen=True)
class AcceptedSend:
    send: Send
    plan: SendPlan

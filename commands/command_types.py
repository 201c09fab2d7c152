"""Every write the platform accepts, as a typed command (frozen dataclasses).

The HTTP routes and the Kafka consumer build these at the edge and hand them to one
``CommandBus`` (``commands/bus.py``); each names the type of its result (``Command[R]``), so
``bus.handle(SendMessage(...))`` is typed ``AcceptedSend``. Fields the caller typed (a phone,
a product, a package size) stay ``object`` until the domain checks them, which is where
their rules live; ids, actors and times are typed by the edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from ..domain.audience import Customer
from ..domain.carrier_lines import ReceiptLine
from ..domain.sending import Send
from ..domain.templates import Template
from ..domain.webhooks import WebhookEndpoint
from .accounts import NewAccount
from .quota import QuotaChange
from .receipt_answers import ReceiptsOutcome
from .recipient_sources import RecipientSource
from .reply_outcome import ReplyOutcome
from .send_plan import AcceptedSend, SendPlan
from .webhooks import NewSecret

R = TypeVar("R", covariant=True)


class Command(Generic[R]):
    """A request to change something, answered with an ``R``."""

    __slots__ = ()


# -- accounts (Q3, T9) -------------------------------------------------------------------


@dataclass(frozen=True)
class CreateAccount(Command[NewAccount]):
    name: object
    verification_phone: object
    actor: str
    account_id: UUID | None = None  # derived from an idempotency key: a retry finds it


@dataclass(frozen=True)
class ActivateProduct(Command[list[str]]):
    account_id: UUID
    product: object
    actor: str


@dataclass(frozen=True)
class SwitchNotification(Command[dict[str, bool]]):
    account_id: UUID
    notification: str
    enabled: object
    actor: str


# -- quota (Q1, Q2) -----------------------------------------------------------------------


@dataclass(frozen=True)
class BuyPackage(Command[QuotaChange]):
    account_id: UUID
    package_size: object
    purchase_id: str  # buying again with the same id changes nothing
    actor: str


@dataclass(frozen=True)
class RefundPackage(Command[None]):
    """Q2: always refused; the command exists so that the refusal is the domain's."""

    account_id: UUID
    purchase_id: str


# -- templates (T1–T10) -------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitTemplate(Command[Template]):
    account_id: UUID
    type: object
    kind: object
    scenario: object
    signature: object
    content: object
    actor: str
    template_id: UUID | None = None


@dataclass(frozen=True)
class EditTemplate(Command[Template]):
    template_id: UUID
    owner: UUID | None  # None: the operator
    signature: object
    content: object
    actor: str
    request_id: str | None = None


@dataclass(frozen=True)
class ApproveTemplate(Command[Template]):
    template_id: UUID
    reviewer: str
    request_id: str | None = None


@dataclass(frozen=True)
class RejectTemplate(Command[Template]):
    template_id: UUID
    reason: object
    reviewer: str
    request_id: str | None = None


@dataclass(frozen=True)
class DeleteTemplate(Command[Template]):
    template_id: UUID
    owner: UUID | None
    actor: str
    request_id: str | None = None


# -- sending (S1–S10, Q5–Q11) -------------------------------------------------------------


@dataclass(frozen=True)
class SendMessage(Command[AcceptedSend]):
    """One business message (a verification code, a notice) to one number."""

    account_id: UUID
    template_id: UUID
    phone: object
    variables: Mapping[str, object] | None
    product: object
    actor: str
    send_id: UUID | None = None


@dataclass(frozen=True)
class SendMassSend(Command[AcceptedSend]):
    """A mass send to the recipients ``source`` names, charged whole or refused whole."""

    account_id: UUID
    template_id: UUID
    source: RecipientSource
    variables: Mapping[str, object] | None
    product: object
    actor: str
    send_id: UUID | None = None
    scheduled_at: datetime | None = None


@dataclass(frozen=True)
class PlanMassSend(Command[SendPlan]):
    """The dry run of ``send``: everything it would check and cost, nothing stored."""

    send: SendMassSend


@dataclass(frozen=True)
class CancelSend(Command[Send]):
    send_id: UUID
    actor: str
    request_id: str | None = None
    owner: UUID | None = None  # the account asking: another account's send is not found


@dataclass(frozen=True)
class RescheduleSend(Command[Send]):
    send_id: UUID
    scheduled_at: datetime
    actor: str
    request_id: str | None = None
    owner: UUID | None = None  # the account asking: another account's send is not found


# -- the carrier's reports (S10, Q7) -------------------------------------------------------


@dataclass(frozen=True)
class RecordReceipts(Command[ReceiptsOutcome]):
    """A body of receipts, each read at the edge (``read_receipt``): one malformed line is
    answered on its own and never sinks the others."""

    lines: Sequence[ReceiptLine]


@dataclass(frozen=True)
class RecordReplies(Command[ReplyOutcome]):
    """Recipients' replies as posted; each is checked on its own."""

    replies: Sequence[object]


# -- audience (S4) ------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncedCustomer:
    customer: Customer
    created: bool


@dataclass(frozen=True)
class SyncCustomer(Command[SyncedCustomer]):
    account_id: UUID
    condition: object
    phone: object
    product: object
    name: object
    actor: str


@dataclass(frozen=True)
class SyncCustomers(Command[list[SyncedCustomer]]):
    """Up to 1,000 customers of one account, synced in one transaction or refused whole;
    each mapping has ``condition``, ``phone``, ``product`` and ``name`` as typed."""

    account_id: UUID
    customers: Sequence[Mapping[str, object]]
    actor: str


@dataclass(frozen=True)
class RemoveOptOut(Command[None]):
    account_id: UUID
    phone: object
    actor: str
    request_id: str | None = None


# -- webhooks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateWebhook(Command[NewSecret]):
    account_id: UUID
    url: object
    events: object
    description: object
    batch: bool
    webhook_id: UUID | None = None  # derived from an idempotency key: a retry finds it


@dataclass(frozen=True)
class DeleteWebhook(Command[WebhookEndpoint]):
    webhook_id: UUID
    owner: UUID | None  # the caller's account; None: the operator


@dataclass(frozen=True)
class RotateWebhookSecret(Command[NewSecret]):
    webhook_id: UUID
    owner: UUID | None


@dataclass(frozen=True)
class RetryWebhookDelivery(Command[bool]):
    """Send one delivery again now (a given-up one too), whatever its attempts so far."""

    delivery_id: str
    owner: UUID | None


@dataclass(frozen=True)
class ReplayWebhook(Command[int]):
    """Send again everything made for one endpoint since ``since``; answers how many."""

    webhook_id: UUID
    owner: UUID | None
    since: datetime

"""Request and response bodies of the HTTP API (what the OpenAPI schema shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..domain.ledger import Balance
from ..domain.packages import PACKAGE_SIZES
from ..domain.products import Product

BEIJING = ZoneInfo("Asia/Shanghai")


def _not_a_number(value: object) -> object:
    if isinstance(value, int | float):  # pydantic would read a number as a Unix time
        raise ValueError("must be an ISO 8601 time, e.g. 2026-11-26T09:00:00+08:00")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_not_a_number)]
"""A time in a request body: ISO 8601 text, as the OpenAPI document says; never a number."""


def beijing(value: datetime) -> datetime:
    """Times go out in Beijing time with their offset (domain rules: all times Beijing)."""
    return value.astimezone(BEIJING)


class Strict(BaseModel):
    """A request body: unknown fields are refused. Fields the domain checks are ``Any`` with a
    default, so the domain reports every problem of a request together (T2, T3, T11); the
    ones it needs are still listed as required in the OpenAPI document."""

    model_config = ConfigDict(extra="forbid")


class NewAccountIn(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["name", "verification_phone"]}
    )
    name: Any = Field(None, description="The customer's name (1–100 characters).")
    verification_phone: Any = Field(
        None,
        description="Mainland mobile that low-balance alerts go to (Q9).",
        examples=["13800138000"],
    )


class NewAccountOut(BaseModel):
    account_id: str
    api_key: str = Field(description="Shown once; only its hash is stored.")
    name: str
    verification_phone: str


class AccountOut(BaseModel):
    account_id: str
    name: str
    verification_phone: str
    extension: str | None = Field(
        None,
        description="The account's code after a real carrier's source_addr: replies to that "
        "number are the account's (an account older than codes gets one at its next send).",
    )
    products: list[str]
    created_at: datetime


class ProductIn(Strict):
    product: Any = Field(
        examples=["site"],
        description="site, mall, lite, edu, interactive, flyer or miniapp",
        json_schema_extra={"enum": [p.value for p in Product]},
    )


class ProductsOut(BaseModel):
    account_id: str
    products: list[str]


class PurchaseIn(Strict):
    package_size: Any = Field(
        examples=[1000],
        description="1000, 5000 or 10000 (Q1).",
        json_schema_extra={"enum": list(PACKAGE_SIZES)},
    )


class BalanceOut(BaseModel):
    available: int
    locked: int
    purchased_total: int
    charged_total: int
    refunded_total: int

    @classmethod
    def of(cls, balance: Balance) -> BalanceOut:
        return cls(
            available=balance.available,
            locked=balance.locked,
            purchased_total=balance.purchased_total,
            charged_total=balance.charged_total,
            refunded_total=balance.refunded_total,
        )


class AccountBalanceOut(BalanceOut):
    account_id: str
    as_of: datetime | None = Field(None, description="The instant asked for, if any (Q12).")


class PurchaseOut(BaseModel):
    purchase_id: str
    package_size: int
    units: int
    entry_id: str
    balance: BalanceOut


class ReferenceOut(BaseModel):
    type: str = Field(description="purchase, send or message")
    id: str


class LedgerEntryOut(BaseModel):
    entry_id: str
    sequence: int = Field(
        description="Position in the account's quota history: increasing; numbers taken by "
        "non-quota events (the pool opening, alerts) are skipped."
    )
    at: datetime
    kind: str = Field(description="purchase, lock, release, charge or refund")
    units: int = Field(description="Units the entry moved (always positive).")
    available_change: int = Field(description="Signed change of the available units.")
    available_after: int
    locked_after: int
    reference: ReferenceOut
    related: ReferenceOut | None = Field(
        None, description="The charge a refund gives back; the lock a charge consumed."
    )
    product: str | None
    actor: str = Field(description="Who caused it: operator, account:<id> or system.")


class LedgerPageOut(BaseModel):
    items: list[LedgerEntryOut]
    next_cursor: int | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page."
    )


class AlertOut(BaseModel):
    alert_id: str
    kind: str
    at: datetime
    phone: str
    message_id: str | None
    available: int | None


class AlertsOut(BaseModel):
    items: list[AlertOut]


class SimClockIn(Strict):
    model_config = ConfigDict(  # exactly one of the two
        extra="forbid", json_schema_extra={"minProperties": 1, "maxProperties": 1}
    )
    advance_seconds: float | None = Field(
        None, ge=0, le=366 * 86_400, strict=True, description="At most 366 days in one move."
    )
    now: IsoTime | None = None


class SimClockOut(BaseModel):
    now: datetime


class NewTemplateIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["type", "signature"]})
    # Every field defaults to None so the domain, not the schema, reports what is missing
    # together with every other problem (T2, T3, T11: all problems listed).
    type: Any = Field(None, description="business or mass (T1)", examples=["mass"])
    kind: Any = Field(None, description="mass only: marketing, notice or custom")
    scenario: Any = Field(
        None, description="business only: register, reset_password, booking or form (T8)"
    )
    signature: Any = Field(None, description="1–8 characters: Chinese, letters, digits (T2)")
    content: Any = Field(
        None,
        description="At most 120 characters, no symbols, placeholders like #code# (T3); "
        "omitted for a business scenario, whose content is fixed (T8)",
    )


class EditTemplateIn(Strict):
    signature: Any = None
    content: Any = None


class RejectIn(Strict):
    reason: Any = Field(description="Shown to the account and kept in the history (T6).")


class ReasonOut(BaseModel):
    code: str
    message: str
    message_zh: str | None = None
    category: str | None = None
    matched: str | None = None


class TemplateSummaryOut(BaseModel):
    template_id: str
    account_id: str
    type: str
    kind: str | None
    scenario: str | None
    signature: str
    content: str
    status: str = Field(description="pending_review, approved or rejected")
    reasons: list[ReasonOut]
    flags: list[ReasonOut] = Field(description="Pre-screen hints for the reviewer (T10).")
    review_due_at: datetime | None = Field(description="While pending: when review is due (T5).")
    version: int
    submitted_at: datetime


class TemplateOut(TemplateSummaryOut):
    placeholders: list[str]
    versions: list[dict[str, Any]] = Field(description="Every version of signature and content.")
    history: list[dict[str, Any]] = Field(description="Submissions, pre-screens and decisions.")
    changes: dict[str, dict[str, str]] = Field(
        description="What the current version changed against the previous (rejected) one."
    )


class TemplateListOut(BaseModel):
    items: list[TemplateSummaryOut]


class NotificationIn(Strict):
    enabled: Any = Field(description="true or false", json_schema_extra={"type": "boolean"})


class NotificationsOut(BaseModel):
    account_id: str
    notifications: dict[str, bool]


class MessageIn(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["template_id", "phone"]}
    )
    template_id: UUID
    phone: Any = Field(None, examples=["13800138000"])
    variables: dict[str, Any] | None = None
    product: Any = Field(None, description="Which product sends it (Q4).")


class MessageAcceptedOut(BaseModel):
    message_id: str
    send_id: str
    status: str = Field(description="pending until the carrier has it, then sending (S10)")
    units: int


class SendIn(Strict):
    template_id: UUID
    recipients: list[Any] | None = Field(
        None,
        description="Numbers, or {phone, variables} objects: per-recipient variables over "
        'the send\'s shared ones, e.g. [{"phone": "13812345678", "variables": {"name": "王"}}]',
    )
    recipients_text: str | None = Field(None, description="One number per line (S2).")
    audience: dict[str, Any] | None = None
    variables: dict[str, Any] | None = None
    scheduled_at: IsoTime | None = None
    product: Any = None
    dry_run: bool = False


class RejectedOut(BaseModel):
    input: str
    code: str
    reason: str
    position: int


class SendAcceptedOut(BaseModel):
    send_id: str
    status: str = Field(description="submitting, scheduled or awaiting_provider_review")
    accepted: int
    units: int = Field(description="Charged now, or locked until the send goes out (Q5).")
    messages_by_units: dict[str, int] = Field(
        default_factory=dict, description="Q6: how many messages cost 1 unit and how many 2."
    )
    duplicates: int
    rejected: list[RejectedOut]
    scheduled_at: datetime | None = None
    goes_out_at: datetime | None = Field(
        None, description="When it goes (or is expected to go) to the carrier (S6, S8)."
    )


class RescheduleIn(Strict):
    scheduled_at: IsoTime = Field(description="The new time, with its offset (S7).")


class SendPlanOut(BaseModel):
    accepted: int
    units: int
    units_per_message: int
    available: int
    sufficient: bool = Field(description="Whether the available units cover the send (Q10).")
    rejected: list[RejectedOut]
    duplicates: int
    rate_limited: list[str] = Field(
        description="Numbers the per-recipient limits would fail now (S9)."
    )
    goes_out_at: datetime = Field(
        description="When it would go to the carrier: now, at scheduled_at, or once the "
        "provider has reviewed a marketing send (S8), whichever is last."
    )
    scheduled_at: datetime | None = None
    provider_review_until: datetime | None = Field(
        None, description="Marketing: when the provider's review is expected to pass (S8)."
    )
    text: str = Field(
        description="The message as recipients will read it (with per-recipient variables, "
        "their placeholders are kept)."
    )
    messages_by_units: dict[str, int] = Field(
        default_factory=dict,
        description='Q6: how many messages cost 1 unit and how many 2, e.g. {"1": 98, "2": 2}.',
    )


class SendOut(BaseModel):
    send_id: str
    account_id: str
    template_id: str
    type: str
    kind: str | None
    product: str | None
    status: str = Field(
        description="scheduled, awaiting_provider_review, cancelled, submitting, submitted, "
        "completed"
    )
    scheduled_at: datetime | None
    total: int
    counts: dict[str, int]
    units_charged: int
    units_refunded: int
    units_locked: int = Field(description="Held until it goes out or is cancelled (Q5, Q11).")
    provider_review_until: datetime | None = Field(
        None, description="Marketing: when the provider's review passes (S8)."
    )
    goes_out_at: datetime | None = Field(
        None, description="When it went, or is expected to go, to the carrier."
    )
    cancel_reason: str | None = Field(
        None, description="cancelled_by_account, or template_deleted (at its time)"
    )
    text: str
    created_at: datetime


class SendListOut(BaseModel):
    items: list[SendOut]


class UpcomingSendsOut(BaseModel):
    items: list[SendOut]
    units_locked: int = Field(description="The units all of them hold (Q5).")


class MessageOut(BaseModel):
    message_id: str
    send_id: str
    phone: str
    status: str
    units: int
    product: str | None
    reason: str | None
    carrier_message_id: str | None
    submitted_at: datetime | None
    final_at: datetime | None
    history: list[dict[str, Any]] = []


class MessagePageOut(BaseModel):
    items: list[MessageOut]
    next_cursor: int | None


class ReceiptIn(BaseModel):
    """One receipt as the carrier reports it. Each is checked on its own: one that is not of
    this shape is answered ``ignored``/``malformed`` and never sinks the others."""

    message_id: str = Field(description="Our message id (``<send id>.<index>``).")
    status: str = Field(description="delivered or failed", examples=["delivered"])
    at: datetime | None = Field(None, description="When the carrier saw it (its own clock).")


class ReceiptsIn(Strict):
    receipts: list[Any] = Field(
        max_length=10_000,
        description="Up to 10,000 receipts (objects of the ReceiptIn shape); more is refused "
        "whole.",
    )


class ReceiptAnswerOut(BaseModel):
    index: int = Field(description="The receipt's position in the body.")
    message_id: str | None
    outcome: str = Field(description="recorded or ignored")
    status: str | None = Field(
        None,
        description="The message's status afterwards (pending, sending, success, "
        "failed, unknown); null when the id names no message.",
    )
    reason: str | None = Field(
        None,
        description="Why it was ignored: not_handed_over, already_final, duplicate, "
        "unknown_message, malformed, platform_notice.",
    )
    refunded_units: int = 0


class ReceiptsOut(BaseModel):
    recorded: int = Field(description="Receipts that settled a message.")
    ignored: int = Field(description="Receipts that moved nothing (see results).")
    duplicates: int = Field(description="Ignored as duplicate or already_final.")
    refunded_units: int
    rejected: list[dict[str, str]] = Field(
        description="The malformed (validation_error) and unknown (not_found) ones, briefly."
    )
    results: list[ReceiptAnswerOut] = Field(description="One answer per receipt, in order.")


class DashboardOut(BaseModel):
    account_id: str
    by_status: dict[str, int]
    by_day: list[dict[str, Any]]
    by_product: list[dict[str, Any]]
    success_rate: float | None = Field(description="success / (success + failed + unknown)")
    units_charged: int
    units_refunded: int


class CustomerIn(Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["condition", "phone", "product"]}
    )
    condition: Any = Field(
        None,
        description="game_player, site_member or miniapp_booking (S4).",
        examples=["site_member"],
    )
    phone: Any = Field(None, examples=["13800138000"])
    product: Any = Field(None, description="The product it was synced from.", examples=["site"])
    name: Any = None


class CustomerOut(BaseModel):
    customer_id: str
    account_id: str
    condition: str
    phone: str
    product: str
    name: str | None
    synced_at: datetime
    created: bool | None = None


class CustomerBatchIn(Strict):
    """Up to 1,000 customers synced in one request (S4): all of them, or none when any is
    invalid (each problem at ``customers[i].field``)."""

    customers: list[CustomerIn] = Field(
        description="1 to 1,000 customers, each as a single sync's body."
    )


class CustomerBatchOut(BaseModel):
    synced: int = Field(description="How many customers the batch named.")
    created: int = Field(description="How many of them it created (the rest existed).")
    customers: list[CustomerOut] = Field(description="Each customer, in the batch's order.")


class CustomerListOut(BaseModel):
    items: list[CustomerOut]
    counts: dict[str, int] = Field(description="Customers per condition.")


class ReplyIn(BaseModel):
    """One reply as the carrier reports it (checked on its own, like receipts)."""

    phone: str = Field(examples=["13812345678"])
    text: str = Field(examples=["TD"])
    at: datetime | None = None
    account_id: str | None = Field(None, description="The account the reply answers.")
    reply_id: str | None = Field(
        None,
        max_length=100,
        description="The carrier's id of the reply: a reply given twice with it is kept once "
        "(without it: the same phone, at and text are the same reply).",
    )


class RepliesIn(Strict):
    replies: list[Any] = Field(
        max_length=10_000, description="Up to 10,000 replies (objects of the ReplyIn shape)."
    )


class ReplyResultOut(BaseModel):
    index: int
    outcome: str = Field(description="opted_out, already_opted_out, ignored or rejected")
    reason: str | None = Field(
        None, description="ignored: not_an_opt_out or no_recent_marketing; rejected: the code."
    )
    accounts: list[str] = Field(
        description="opted_out: the accounts it opted the number out of; already_opted_out "
        "and ignored (not_an_opt_out): the accounts the reply was kept for (reply.received)."
    )


class RepliesOut(BaseModel):
    opted_out: int = Field(description="(account, number) pairs newly opted out.")
    already: int
    ignored: int = Field(description="Replies that are not opt-out keywords.")
    unmatched: int = Field(description="Opt-outs with no account to apply to.")
    rejected: list[dict[str, Any]]
    results: list[ReplyResultOut] = Field(description="One answer per reply, in order.")


class OptOutOut(BaseModel):
    phone: str
    source: str
    text: str
    at: datetime


class OptOutListOut(BaseModel):
    items: list[OptOutOut]


# -- webhooks ------------------------------------------------------------------------------


class WebhookIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["url", "events"]})
    url: Any = Field(
        None,
        description="https URL to public addresses (http and loopback too "
        "with SMS_WEBHOOK_ALLOW_PRIVATE=1).",
        examples=["https://shop.example.cn/sms"],
    )
    events: Any = Field(
        None,
        description="Any of message.status, send.status, "
        "reply.received, template.reviewed, balance.low.",
        examples=[["message.status", "send.status"]],
    )
    description: Any = Field(None, description="Up to 200 characters.")
    batch: bool = Field(
        False,
        description="message.status in batches of up to 100 per delivery ({messages: [...]}).",
    )


class WebhookOut(BaseModel):
    webhook_id: str
    account_id: str
    url: str
    events: list[str]
    description: str | None
    batch: bool
    status: str = Field(description="active, or disabled (see disabled_reason: gone, failing)")
    disabled_reason: str | None
    created_at: datetime


class WebhookSecretOut(WebhookOut):
    secret: str = Field(
        description="whsec_…: shown once; signs every delivery (Standard "
        "Webhooks). After a rotation the previous one also signs for 24 hours."
    )


class WebhookListOut(BaseModel):
    items: list[WebhookOut]


class DeliveryAttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    latency_ms: float


class DeliveryOut(BaseModel):
    delivery_id: str = Field(description="The webhook-id header, the same on every attempt.")
    webhook_id: str
    event_type: str
    status: str = Field(description="pending, delivered, failed (given up) or cancelled")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    tries: list[DeliveryAttemptOut]


class DeliveryListOut(BaseModel):
    items: list[DeliveryOut]


class RetriedOut(BaseModel):
    delivery_id: str
    status: str


class ReplayIn(Strict):
    since: IsoTime = Field(
        description="Everything made for the endpoint since then goes again (naive: Beijing time)."
    )


class ReplayedOut(BaseModel):
    webhook_id: str
    deliveries: int = Field(description="How many are due again, with their own webhook-id.")

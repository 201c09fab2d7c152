"""Commands' results and refusals as they go out, for HTTP and Kafka alike.

A route answers with one of these models; the Kafka consumer puts the same model's JSON in
``result`` (and a refusal's ``code`` and ``detail``, the problem+json fields, in its outcome),
so an upstream product sees one shape whichever way it sent the command.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ..commands.accounts import NewAccount
from ..commands.command_types import SyncedCustomer
from ..commands.quota import QuotaChange
from ..commands.receipt_answers import ReceiptsOutcome
from ..commands.reply_outcome import ReplyOutcome
from ..commands.sending import AcceptedSend, SendPlan
from ..domain.accounts import Account
from ..domain.errors import DomainError
from ..domain.recipients import RejectedInput
from ..domain.sending import Send, message_id
from ..domain.templates import Template
from .schemas import (
    BalanceOut,
    CustomerOut,
    MessageAcceptedOut,
    NewAccountOut,
    NotificationsOut,
    ProductsOut,
    PurchaseOut,
    ReasonOut,
    ReceiptAnswerOut,
    ReceiptsOut,
    RejectedOut,
    RepliesOut,
    ReplyResultOut,
    SendAcceptedOut,
    SendOut,
    SendPlanOut,
    TemplateOut,
    beijing,
)


def refusal(error: DomainError) -> dict[str, str]:
    """A refusal's stable ``code`` and its ``detail``, as in problem+json."""
    return {"code": error.code, "detail": error.detail}


# -- accounts and quota -------------------------------------------------------------------


def new_account_out(new: NewAccount, account: Account) -> NewAccountOut:
    return NewAccountOut(
        account_id=str(new.account_id),
        api_key=new.api_key,
        name=account.name,
        verification_phone=account.verification_phone,
    )


def products_out(account_id: UUID, products: list[str]) -> ProductsOut:
    return ProductsOut(account_id=str(account_id), products=products)


def notifications_out(account_id: UUID, states: dict[str, bool]) -> NotificationsOut:
    return NotificationsOut(account_id=str(account_id), notifications=states)


def purchase_out(purchase_id: str, package_size: object, change: QuotaChange) -> PurchaseOut:
    units = int(str(package_size))  # the domain accepted it as one of the package sizes
    return PurchaseOut(
        purchase_id=purchase_id,
        package_size=units,
        units=units,
        entry_id=change.entry_id,
        balance=BalanceOut.of(change.balance),
    )


# -- templates ----------------------------------------------------------------------------


def template_out(t: Template) -> TemplateOut:
    return TemplateOut(
        template_id=str(t.id),
        account_id=t.account_id,
        type=t.type,
        kind=t.kind,
        scenario=t.scenario,
        signature=t.signature,
        content=t.content,
        status=t.status.value,
        reasons=[ReasonOut(**r) for r in t.reasons],
        flags=[ReasonOut(**r) for r in t.flags],
        review_due_at=beijing(t.review_due_at) if t.review_due_at else None,
        version=t.version_number,
        submitted_at=beijing(t.submitted_at),
        placeholders=t.placeholders,
        versions=[_in_beijing(v) for v in t.versions],
        history=[_in_beijing(h) for h in t.history],
        changes=t.changes_since_previous(),
    )


def _in_beijing(record: dict[str, object]) -> dict[str, object]:
    """History and versions keep UTC ISO times; they go out in Beijing time like the rest."""
    return {
        key: beijing(datetime.fromisoformat(value)).isoformat()
        if key in ("at", "submitted_at") and isinstance(value, str)
        else value
        for key, value in record.items()
    }


# -- sending ------------------------------------------------------------------------------


def message_accepted_out(accepted: AcceptedSend) -> MessageAcceptedOut:
    send = accepted.send
    return MessageAcceptedOut(
        message_id=message_id(send.id, 0),
        send_id=str(send.id),
        status=send.message_status(0).value,
        units=send.units_per_message,
    )


def send_accepted_out(accepted: AcceptedSend) -> SendAcceptedOut:
    send, plan = accepted.send, accepted.plan
    return SendAcceptedOut(
        send_id=str(send.id),
        status=send.status.value,
        accepted=plan.accepted,
        units=plan.units,
        messages_by_units=_by_units(plan.messages_by_units),
        duplicates=plan.duplicates,
        rejected=rejected_out(plan.rejected),
        scheduled_at=maybe_beijing(send.scheduled_at),
        goes_out_at=maybe_beijing(send.goes_out_at),
    )


def send_plan_out(plan: SendPlan) -> SendPlanOut:
    assert plan.goes_out_at is not None  # a dry run always says when it would go out
    return SendPlanOut(
        accepted=plan.accepted, units=plan.units, units_per_message=plan.units_per_message,
        available=plan.available, sufficient=plan.units <= plan.available,
        rejected=rejected_out(plan.rejected), duplicates=plan.duplicates,
        rate_limited=list(plan.rate_limited), goes_out_at=beijing(plan.goes_out_at),
        scheduled_at=maybe_beijing(plan.scheduled_at),
        provider_review_until=maybe_beijing(plan.review_due_at), text=plan.text,
        messages_by_units=_by_units(plan.messages_by_units),
    )  # fmt: skip


def send_out(send: Send) -> SendOut:
    return SendOut(
        send_id=str(send.id), account_id=send.account_id, template_id=send.template_id,
        type=send.type, kind=send.kind, product=send.product, status=send.status.value,
        scheduled_at=maybe_beijing(send.scheduled_at), total=send.total, counts=send.counts(),
        units_charged=send.units_charged, units_refunded=send.units_refunded,
        units_locked=send.units_locked, provider_review_until=maybe_beijing(send.review_due_at),
        goes_out_at=maybe_beijing(send.goes_out_at), cancel_reason=send.cancel_reason,
        text=send.text, created_at=beijing(send.created_on),
    )  # fmt: skip


def rejected_out(items: tuple[RejectedInput, ...]) -> list[RejectedOut]:
    return [
        RejectedOut(input=r.input, code=r.code, reason=r.reason, position=r.position) for r in items
    ]


def maybe_beijing(value: datetime | None) -> datetime | None:
    return beijing(value) if value else None


def _by_units(counts: dict[int, int]) -> dict[str, int]:
    return {str(units): n for units, n in counts.items()}


# -- the carrier's reports and the audience -------------------------------------------------


def receipts_out(outcome: ReceiptsOutcome) -> ReceiptsOut:
    return ReceiptsOut(
        recorded=outcome.recorded,
        ignored=outcome.ignored,
        duplicates=outcome.duplicates,
        refunded_units=outcome.refunded_units,
        rejected=outcome.rejected(),
        results=[
            ReceiptAnswerOut(
                index=a.index,
                message_id=a.message_id,
                outcome=a.outcome,
                status=a.status,
                reason=a.ignored.value if a.ignored else None,
                refunded_units=a.refunded_units,
            )
            for a in outcome.answers
        ],
    )


def replies_out(outcome: ReplyOutcome) -> RepliesOut:
    return RepliesOut(
        opted_out=outcome.opted_out, already=outcome.already, ignored=outcome.ignored,
        unmatched=outcome.unmatched, rejected=outcome.rejected,
        results=[ReplyResultOut(index=r.index, outcome=r.outcome, reason=r.reason,
                                accounts=list(r.accounts)) for r in outcome.results],
    )  # fmt: skip


def customer_out(synced: SyncedCustomer) -> CustomerOut:
    customer = synced.customer
    return CustomerOut(
        customer_id=str(customer.id), account_id=customer.account_id,
        condition=customer.condition, phone=customer.phone, product=customer.product,
        name=customer.name, synced_at=beijing(customer.synced_at), created=synced.created,
    )  # fmt: skip


def json_of(model: Any) -> dict[str, Any]:
    """A result model as JSON-ready data (what Kafka's ``result`` carries)."""
    data: dict[str, Any] = model.model_dump(mode="json")
    return data

"""Which handler answers which command: the write side's whole table, in one place.

Each handler loads the aggregates it needs once per attempt, asks the domain, saves, and
returns the result (the applications' methods; the library's ``bankaccounts`` shape). This
module only says who does what; ``infra/bootstrap.py`` gives it the applications.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .accounts import AccountsApp
from .audience import AudienceApp
from .bus import CommandBus
from .command_types import (
    ActivateProduct,
    ApproveTemplate,
    BuyPackage,
    CancelSend,
    Command,
    CreateAccount,
    CreateWebhook,
    DeleteTemplate,
    DeleteWebhook,
    EditTemplate,
    PlanMassSend,
    RecordReceipts,
    RecordReplies,
    RefundPackage,
    RejectTemplate,
    RemoveOptOut,
    ReplayWebhook,
    RescheduleSend,
    RetryWebhookDelivery,
    RotateWebhookSecret,
    SendMassSend,
    SendMessage,
    SubmitTemplate,
    SwitchNotification,
    SyncCustomer,
    SyncCustomers,
    SyncedCustomer,
)
from .ports import DeliveryOutbox
from .quota import QuotaApp
from .receipts import ReceiptRecorder
from .replies import ReplyRecorder
from .sending import SendingService
from .templates import TemplatesApp
from .webhooks import WebhooksApp


@dataclass(frozen=True)
class WriteSide:
    """The applications and services that decide commands."""

    accounts: AccountsApp
    quota: QuotaApp
    templates: TemplatesApp
    audience: AudienceApp
    sending: SendingService
    receipts: ReceiptRecorder
    replies: ReplyRecorder
    webhooks: WebhooksApp
    deliveries: DeliveryOutbox


def command_bus(w: WriteSide) -> CommandBus:
    handlers: dict[type[Command[Any]], Callable[[Any], Any]] = {
        CreateAccount: lambda c: w.accounts.create_account(
            c.name, c.verification_phone, c.actor, c.account_id
        ),
        ActivateProduct: lambda c: w.accounts.activate_product(c.account_id, c.product, c.actor),
        SwitchNotification: lambda c: w.accounts.switch_notification(
            c.account_id, c.notification, c.enabled, c.actor
        ),
        BuyPackage: lambda c: w.quota.purchase(
            c.account_id, c.package_size, c.purchase_id, c.actor
        ),
        RefundPackage: lambda c: w.quota.refuse_refund(c.account_id, c.purchase_id),
        SubmitTemplate: lambda c: w.templates.submit(
            c.account_id, _fields(c), c.actor, c.template_id
        ),
        EditTemplate: lambda c: w.templates.resubmit(
            c.template_id, c.owner, c.signature, c.content, c.actor, c.request_id
        ),
        ApproveTemplate: lambda c: w.templates.approve(c.template_id, c.reviewer, c.request_id),
        RejectTemplate: lambda c: w.templates.reject(
            c.template_id, c.reason, c.reviewer, c.request_id
        ),
        DeleteTemplate: lambda c: w.templates.delete(c.template_id, c.owner, c.actor, c.request_id),
        SendMessage: w.sending.send_message,
        PlanMassSend: lambda c: w.sending.plan_mass(c.send).plan,
        SendMassSend: w.sending.send_mass,
        CancelSend: w.sending.cancel,
        RescheduleSend: w.sending.reschedule,
        RecordReceipts: w.receipts.record,
        RecordReplies: w.replies.record,
        SyncCustomer: lambda c: _synced(w.audience, c),
        SyncCustomers: lambda c: [
            SyncedCustomer(customer, created)
            for customer, created in w.audience.sync_customers(c.account_id, c.customers, c.actor)
        ],
        RemoveOptOut: lambda c: w.audience.remove_opt_out(
            c.account_id, c.phone, c.actor, c.request_id
        ),
        CreateWebhook: lambda c: w.webhooks.create(
            c.account_id, c.url, c.events, c.description, c.batch, c.webhook_id
        ),
        DeleteWebhook: lambda c: w.webhooks.delete(c.webhook_id, c.owner),
        RotateWebhookSecret: lambda c: w.webhooks.rotate(c.webhook_id, c.owner),
        ReplayWebhook: lambda c: w.deliveries.replay(
            w.webhooks.endpoint(c.webhook_id, c.owner).id, c.since, w.webhooks.clock.now()
        ),
        RetryWebhookDelivery: lambda c: w.deliveries.retry(
            c.delivery_id, str(c.owner) if c.owner else None, w.webhooks.clock.now()
        ),
    }
    return CommandBus(handlers)


def _fields(c: SubmitTemplate) -> dict[str, object]:
    """A submitted template's fields, as the templates application checks them together."""
    return {"type": c.type, "kind": c.kind, "scenario": c.scenario,
            "signature": c.signature, "content": c.content}  # fmt: skip


def _synced(audience: AudienceApp, c: SyncCustomer) -> SyncedCustomer:
    customer, created = audience.sync_customer(
        c.account_id, c.condition, c.phone, c.product, c.name, c.actor
    )
    return SyncedCustomer(customer, created)

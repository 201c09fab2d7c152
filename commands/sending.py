"""Sending: business messages and mass sends, validated, priced and accepted (S1–S6, Q5–Q10).

Accepting a send is one transaction with its charge (``QuotaApp.accept_send``); handing it to
the carrier is the send worker's job (``commands/send_worker.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from ..domain.errors import InvalidInput
from ..domain.phones import parse_mainland_mobile
from ..domain.pricing import RenderedMessage, render
from ..domain.products import Product
from ..domain.provider_review import needs_provider_review, review_passes_at
from ..domain.recipient_limits import limit_category
from ..domain.recipients import (
    RecipientList,
    RejectedInput,
    audience_conditions,
    from_audience,
    from_list,
    from_text,
    parse_recipients,
)
from ..domain.scenarios import TemplateType
from ..domain.sending import Send, check_schedule, goes_out_at
from ..domain.templates import Template
from .accounts import AccountsApp
from .group_commit import GroupCommitter
from .ports import AudienceDirectory, RecipientLimits
from .quota import QuotaApp
from .send_lifecycle import SendLifecycle
from .templates import TemplatesApp


class WrongTemplateType(InvalidInput):
    """A business template for a mass send, or a mass template for a business message."""

    code = "wrong_template_type"
    title = "Wrong template type"


@dataclass(frozen=True)
class SendPlan:
    """What a send would do (the dry run), or what an accepted one does."""

    accepted: int
    units: int
    units_per_message: int
    available: int
    rejected: tuple[RejectedInput, ...]
    duplicates: int
    text: str
    rate_limited: tuple[str, ...] = ()  # S9: numbers the per-recipient limits would fail
    scheduled_at: datetime | None = None  # S6
    review_due_at: datetime | None = None  # S8: when the provider's review passes
    goes_out_at: datetime | None = None  # the later of now, the schedule and the review


@dataclass(frozen=True)
class MassPlan:
    """A validated mass send: its template, recipients, message and plan."""

    template: Template
    recipients: RecipientList
    message: RenderedMessage
    plan: SendPlan


@dataclass(frozen=True)
class AcceptedSend:
    send: Send
    plan: SendPlan


class SendingService:
    def __init__(
        self,
        accounts: AccountsApp,
        templates: TemplatesApp,
        quota: QuotaApp,
        lifecycle: SendLifecycle,
        limits: RecipientLimits,
        audience: AudienceDirectory,
        committer: GroupCommitter | None = None,
    ) -> None:
        self.lifecycle = lifecycle
        self.audience = audience
        self.accounts = accounts
        self.templates = templates
        self.quota = quota
        self.limits = limits
        # acceptances share transactions when a committer runs (the service), else one each
        self.accept_send = committer.accept_send if committer else quota.accept_send

    def send_message(
        self,
        account_id: UUID,
        template_id: UUID,
        phone: object,
        variables: Mapping[str, object] | None,
        product: object,
        actor: str,
        send_id: UUID | None = None,
    ) -> AcceptedSend:
        """One business message (e.g. a verification code) to one number."""
        template = self._template(account_id, template_id, TemplateType.BUSINESS)
        number = parse_mainland_mobile(phone if isinstance(phone, str) else "")
        message = render(template.signature, template.content, variables)
        recipients = RecipientList((number,), (), 0)
        return self._accept(account_id, template, recipients, message, product, actor, send_id)

    def plan_mass(
        self,
        account_id: UUID,
        template_id: UUID,
        recipients: object,
        recipients_text: object,
        variables: Mapping[str, object] | None,
        product: object = None,
        *,
        scheduled_at: datetime | None = None,
        audience: object = None,
        recipient_rows: Sequence[tuple[int, str]] | None = None,
    ) -> MassPlan:
        """Validate and price a mass send without storing anything (the dry run): everything
        the send itself would check, product included, and when it would go out (S6, S8).
        Recipients come from ``recipients``, ``recipients_text``, the rows of an Excel file
        (S3) or the account's synced customers (``audience``, S4): exactly one of them."""
        _product(product)
        template = self._template(account_id, template_id, TemplateType.MASS)
        now = self.quota.clock.now()
        if scheduled_at is not None:
            check_schedule(scheduled_at, now)
        marketing = needs_provider_review(template.type, template.kind)
        parsed = self._recipients(account_id, recipients, recipients_text, recipient_rows, audience)
        if marketing:  # opted-out numbers are skipped and cost nothing
            parsed = parsed.without(self.audience.opted_out(str(account_id), parsed.accepted))
        message = render(template.signature, template.content, variables, opt_out_line=marketing)
        review_due_at = review_passes_at(now) if marketing else None
        plan = SendPlan(
            accepted=len(parsed.accepted),
            units=len(parsed.accepted) * message.units,
            units_per_message=message.units,
            available=self.quota.balance(account_id).available,
            rejected=parsed.rejected,
            duplicates=parsed.duplicates,
            text=message.text,
            rate_limited=tuple(
                self.limits.would_fail(
                    limit_category(template.type, template.kind, template.scenario),
                    parsed.accepted,
                    now,
                )
            ),
            scheduled_at=scheduled_at,
            review_due_at=review_due_at,
            goes_out_at=goes_out_at(now, scheduled_at, review_due_at),
        )
        return MassPlan(template, parsed, message, plan)

    def send_mass(
        self,
        account_id: UUID,
        template_id: UUID,
        recipients: object,
        recipients_text: object,
        variables: Mapping[str, object] | None,
        product: object,
        actor: str,
        send_id: UUID | None = None,
        *,
        scheduled_at: datetime | None = None,
        audience: object = None,
        recipient_rows: Sequence[tuple[int, str]] | None = None,
    ) -> AcceptedSend:
        """A mass send, charged now (or its units locked until its time, or until the
        provider has reviewed it) whole, or refused whole (Q5, Q10)."""
        planned = self.plan_mass(
            account_id, template_id, recipients, recipients_text, variables, product,
            scheduled_at=scheduled_at, audience=audience, recipient_rows=recipient_rows,
        )  # fmt: skip
        if not planned.recipients.accepted:
            raise InvalidInput("None of the recipients can be sent to.")
        return self._accept(
            account_id, planned.template, planned.recipients, planned.message, product, actor,
            send_id, scheduled_at,
        )  # fmt: skip

    def cancel(self, send_id: UUID, actor: str, request_id: str | None = None) -> Send:
        """S7, Q11: cancel a send before it is submitted; its locked units come back."""
        return self.lifecycle.cancel(send_id, "cancelled_by_account", actor, request_id)

    def reschedule(
        self, send_id: UUID, when: datetime, actor: str, request_id: str | None = None
    ) -> Send:
        """S7: change the time while at least an hour remains before it."""
        return self.lifecycle.reschedule(send_id, when, actor, request_id)

    def _accept(
        self,
        account_id: UUID,
        template: Template,
        recipients: RecipientList,
        message: RenderedMessage,
        product: object,
        actor: str,
        send_id: UUID | None,
        scheduled_at: datetime | None = None,
    ) -> AcceptedSend:
        chosen = _product(product)
        send_id = send_id or uuid4()

        category = limit_category(template.type, template.kind, template.scenario)
        reviewed = needs_provider_review(template.type, template.kind)

        def build(at: datetime) -> Send:
            return Send.accept(
                send_id, account_id, template.id, template.type, template.kind, chosen,
                message.text, message.units, list(recipients.accepted), actor, at, category,
                scheduled_at=scheduled_at,
                review_due_at=review_passes_at(at) if reviewed else None,
            )  # fmt: skip

        send, change = self.accept_send(account_id, build, actor)
        plan = SendPlan(
            accepted=send.total,
            units=send.units_charged or send.units_locked,
            units_per_message=send.units_per_message,
            available=change.balance.available,
            rejected=recipients.rejected,
            duplicates=recipients.duplicates,
            text=send.text,
            scheduled_at=send.scheduled_at,
            review_due_at=send.review_due_at,
            goes_out_at=send.goes_out_at,
        )
        return AcceptedSend(send, plan)

    def _recipients(
        self,
        account_id: UUID,
        recipients: object,
        recipients_text: object,
        rows: Sequence[tuple[int, str]] | None,
        audience: object,
    ) -> RecipientList:
        given = [x for x in (recipients, recipients_text, rows, audience) if x is not None]
        if len(given) > 1:
            raise InvalidInput(
                "Give one of recipients, recipients_text, a file or audience, not several."
            )
        if isinstance(recipients, list):
            return from_list(recipients)
        if isinstance(recipients_text, str):
            return from_text(recipients_text)
        if rows is not None:
            return parse_recipients(rows)
        if audience is not None:
            conditions = audience_conditions(audience)
            return from_audience(self.audience.numbers(str(account_id), conditions))
        raise InvalidInput(
            "A mass send needs recipients (a list), recipients_text (one per line), "
            "a file, or an audience."
        )

    def _template(self, account_id: UUID, template_id: UUID, wanted: TemplateType) -> Template:
        template = self.templates.usable(template_id, account_id)
        if template.type != wanted:
            raise WrongTemplateType(
                f"Template {template_id} is a {template.type} template; "
                f"this needs a {wanted.value} one."
            )
        return template


def _product(product: object) -> str | None:
    if product is None:
        return None
    try:
        return Product(product if isinstance(product, str) else "").value
    except ValueError:
        choices = ", ".join(p.value for p in Product)
        raise InvalidInput(f"product must be one of: {choices}.") from None

"""Sending: business messages and mass sends, validated, priced and accepted (S1–S6, Q5–Q10).

Accepting a send is one transaction with its charge (``QuotaApp.accept_send``); handing it to
the carrier is the send worker's job (``commands/send_worker.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from ..domain.errors import InvalidInput, NoActiveProduct
from ..domain.phones import parse_mainland_mobile
from ..domain.pricing import render, render_each
from ..domain.products import Product
from ..domain.provider_review import needs_provider_review, review_passes_at
from ..domain.recipient_limits import limit_category
from ..domain.recipients import (
    RecipientInput,
    RecipientList,
    RejectedInput,
    audience_conditions,
    from_audience,
    from_list,
    from_text,
    parse_recipients,
    variables_from_columns,
)
from ..domain.scenarios import TemplateType
from ..domain.sending import Send, check_schedule, goes_out_at
from ..domain.templates import Template
from .accounts import AccountsApp
from .group_commit import GroupCommitter
from .ports import AudienceDirectory, RecipientLimits
from .quota import QuotaApp
from .recipient_sources import Audience, Numbers, RecipientSource, SheetRows, TypedNumbers
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

    template: Template
    recipients: RecipientList
    priced: Priced
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
        chosen = self._active_product(account_id, product)
        template = self._template(account_id, template_id, TemplateType.BUSINESS)
        number = parse_mainland_mobile(phone if isinstance(phone, str) else "")
        message = render(template.signature, template.content, variables)
        recipients = RecipientList((number,), (), 0)
        priced = Priced(message.text, (message.units,))
        return self._accept(account_id, template, recipients, priced, chosen, actor, send_id)

    def plan_mass(
        self,
        account_id: UUID,
        template_id: UUID,
        source: RecipientSource,
        variables: Mapping[str, object] | None,
        product: object = None,
        *,
        scheduled_at: datetime | None = None,
    ) -> MassPlan:
        """Validate and price a mass send without storing anything (the dry run): everything
        the send itself would check, product included, and when it would go out (S6, S8).
        Each recipient is priced on its own message (Q6); one whose message cannot be made
        (too long with its name, a variable missing) is refused with its position, and the
        rest go on."""
        self._active_product(account_id, product)
        template = self._template(account_id, template_id, TemplateType.MASS)
        now = self.quota.clock.now()
        if scheduled_at is not None:
            check_schedule(scheduled_at, now)
        marketing = needs_provider_review(template.type, template.kind)
        parsed = self._recipients(account_id, source, template.placeholders)
        if marketing:  # opted-out numbers are skipped and cost nothing
            parsed = parsed.without(self.audience.opted_out(str(account_id), parsed.accepted))
        parsed, priced = _price(template, parsed, variables, marketing)
        review_due_at = review_passes_at(now) if marketing else None
        plan = SendPlan(
            accepted=len(parsed.accepted),
            units=sum(priced.units),
            units_per_message=max(priced.units, default=0),
            available=self.quota.balance(account_id).available,
            rejected=parsed.rejected,
            duplicates=parsed.duplicates,
            text=priced.text,
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
            messages_by_units=priced.by_units(),
        )
        return MassPlan(template, parsed, priced, plan)

    def send_mass(
        self,
        account_id: UUID,
        template_id: UUID,
        source: RecipientSource,
        variables: Mapping[str, object] | None,
        product: object,
        actor: str,
        send_id: UUID | None = None,
        *,
        scheduled_at: datetime | None = None,
    ) -> AcceptedSend:
        """A mass send, charged now (or its units locked until its time, or until the
        provider has reviewed it) whole, or refused whole (Q5, Q10)."""
        planned = self.plan_mass(
            account_id, template_id, source, variables, product, scheduled_at=scheduled_at
        )
        if not planned.recipients.accepted:
            raise InvalidInput("None of the recipients can be sent to.")
        return self._accept(
            account_id, planned.template, planned.recipients, planned.priced,
            _product(product), actor, send_id, scheduled_at,
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
        priced: Priced,
        product: str | None,
        actor: str,
        send_id: UUID | None,
        scheduled_at: datetime | None = None,
    ) -> AcceptedSend:
        send_id = send_id or uuid4()
        category = limit_category(template.type, template.kind, template.scenario)
        reviewed = needs_provider_review(template.type, template.kind)

        def build(at: datetime) -> Send:
            return Send.accept(
                send_id, account_id, template.id, template.type, template.kind, product,
                priced.text, max(priced.units), list(recipients.accepted), actor, at, category,
                scheduled_at=scheduled_at,
                review_due_at=review_passes_at(at) if reviewed else None,
                personal=priced.personal, units=priced.units,
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
            messages_by_units=priced.by_units(),
        )
        return AcceptedSend(send, plan)

    def _recipients(
        self, account_id: UUID, source: RecipientSource, placeholders: Sequence[str]
    ) -> RecipientList:
        """The recipients a source names, with their own variables where it has them."""
        match source:
            case Numbers(items):
                return from_list(items)
            case TypedNumbers(text):
                return from_text(text)
            case SheetRows(rows):
                return parse_recipients(
                    RecipientInput(r.row, r.phone, variables_from_columns(r.columns, placeholders))
                    for r in rows
                )
            case Audience(conditions):
                chosen = audience_conditions(conditions)
                named = self.audience.named_numbers(str(account_id), chosen)
                uses_name = "name" in placeholders
                return from_audience(
                    [(phone, {"name": name} if uses_name and name else {})
                     for phone, name in named]
                )  # fmt: skip
        raise InvalidInput("A mass send needs recipients, recipients_text, a file or an audience.")

    def _active_product(self, account_id: UUID, product: object) -> str | None:
        """Q3: a send names a product the account has active (the pool is shared by them,
        each charge recording which product used it, Q4)."""
        chosen = _product(product)
        if chosen is not None and chosen not in self.accounts.account(account_id).products:
            raise NoActiveProduct(
                f"The product {chosen} is not active on this account; activate it first "
                "(POST /v1/accounts/{account_id}/products)."
            )
        return chosen

    def _template(self, account_id: UUID, template_id: UUID, wanted: TemplateType) -> Template:
        template = self.templates.usable(template_id, account_id)
        if template.type != wanted:
            raise WrongTemplateType(
                f"Template {template_id} is a {template.type} template; "
                f"this needs a {wanted.value} one."
            )
        return template


def _price(
    template: Template,
    recipients: RecipientList,
    shared: Mapping[str, object] | None,
    opt_out_line: bool,
) -> tuple[RecipientList, Priced]:
    """Q6: one message for everyone, or, with per-recipient variables, each recipient's own;
    a recipient whose message cannot be made is moved to ``rejected`` with its position."""
    if not recipients.personal:
        message = render(template.signature, template.content, shared, opt_out_line)
        return recipients, Priced(message.text, (message.units,) * len(recipients.accepted))
    rendered = render_each(template.signature, template.content, shared,
                           [recipients.variables_of(i) for i in range(len(recipients.accepted))],
                           opt_out_line)  # fmt: skip
    refused = {index: (code, why) for index, code, why in rendered.refused}
    kept = [i for i in range(len(recipients.accepted)) if i not in refused]
    dropped = [
        RejectedInput(recipients.accepted[i], code, why, recipients.position_of(i))
        for i, (code, why) in refused.items()
    ]
    priced = Priced(
        rendered.form,
        tuple(rendered.units[i] for i in kept),
        tuple(rendered.values[i] for i in kept),
    )
    return recipients.keep(kept, dropped), priced


def _product(product: object) -> str | None:
    if product is None:
        return None
    try:
        return Product(product if isinstance(product, str) else "").value
    except ValueError:
        choices = ", ".join(p.value for p in Product)
        raise InvalidInput(f"product must be one of: {choices}.") from None

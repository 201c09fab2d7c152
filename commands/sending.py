"""Sending: business messages and mass sends, validated, priced and accepted (S1–S6, Q5–Q10).

Accepting a send is one transaction with its charge (``commands/send_acceptance.py``); handing it to
the carrier is the send worker's job (``commands/send_worker.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from ..domain.errors import InvalidInput, NoActiveProduct, NotFound
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
from ..domain.send_draft import SendDraft
from ..domain.sending import Send, check_schedule, goes_out_at
from ..domain.templates import Template
from .accounts import AccountsApp
from .command_types import CancelSend, RescheduleSend, SendMassSend, SendMessage
from .ports import AudienceDirectory, RecipientLimits
from .quota import QuotaApp
from .recipient_sources import (
    Audience,
    Numbers,
    RecipientSheets,
    RecipientSource,
    SheetRows,
    SpreadsheetFile,
    TypedNumbers,
)
from .send_acceptance import AcceptsSends
from .send_lifecycle import SendLifecycle
from .send_plan import AcceptedSend, MassPlan, Priced, SendPlan
from .templates import TemplatesApp

__all__ = ["AcceptedSend", "SendPlan", "SendingService", "WrongTemplateType"]


class WrongTemplateType(InvalidInput):
    """A business template for a mass send, or a mass template for a business message."""

    code = "wrong_template_type"
    title = "Wrong template type"


class SendingService:
    def __init__(
        self,
        accounts: AccountsApp,
        templates: TemplatesApp,
        quota: QuotaApp,
        lifecycle: SendLifecycle,
        limits: RecipientLimits,
        audience: AudienceDirectory,
        acceptance: AcceptsSends,
        sheets: RecipientSheets,
    ) -> None:
        self.sheets = sheets
        self.lifecycle = lifecycle
        self.audience = audience
        self.accounts = accounts
        self.templates = templates
        self.quota = quota
        self.limits = limits
        self.acceptance = acceptance

    def send_message(self, command: SendMessage) -> AcceptedSend:
        """One business message (e.g. a verification code) to one number."""
        c = command
        chosen = self._active_product(c.account_id, c.product)
        template = self._template(c.account_id, c.template_id, TemplateType.BUSINESS)
        number = parse_mainland_mobile(c.phone if isinstance(c.phone, str) else "")
        message = render(template.signature, template.content, c.variables)
        recipients = RecipientList((number,), (), 0)
        priced = Priced(message.text, (message.units,))
        extension = self.accounts.extension_of(c.account_id)
        draft = _draft(
            c.send_id, c.account_id, template, recipients, priced, chosen, None, extension
        )
        return self._accept(draft, recipients, priced, c.actor)

    def plan_mass(self, command: SendMassSend) -> MassPlan:
        """Validate and price a mass send without storing anything (the dry run): everything
        the send itself would check, product included, and when it would go out (S6, S8).
        Each recipient is priced on its own message (Q6); one whose message cannot be made
        (too long with its name, a variable missing) is refused with its position, and the
        rest go on."""
        c = command
        source = self._read_upload(c.source)  # a file refused whole is refused first
        product = self._active_product(c.account_id, c.product)
        template = self._template(c.account_id, c.template_id, TemplateType.MASS)
        now = self.quota.clock.now()
        if c.scheduled_at is not None:
            check_schedule(c.scheduled_at, now)
        marketing = needs_provider_review(template.type, template.kind)
        parsed = self._recipients(c.account_id, source, template.placeholders)
        if marketing:  # opted-out numbers are skipped and cost nothing
            parsed = parsed.without(self.audience.opted_out(str(c.account_id), parsed.accepted))
        parsed, priced = _price(template, parsed, c.variables, marketing)
        review_due_at = review_passes_at(now) if marketing else None
        plan = SendPlan(
            accepted=len(parsed.accepted),
            units=sum(priced.units),
            units_per_message=max(priced.units, default=0),
            available=self.quota.balance(c.account_id).available,
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
            scheduled_at=c.scheduled_at,
            review_due_at=review_due_at,
            goes_out_at=goes_out_at(now, c.scheduled_at, review_due_at),
            messages_by_units=priced.by_units(),
        )
        extension = self.accounts.known_extension(c.account_id)  # a dry run stores nothing
        draft = _draft(
            c.send_id, c.account_id, template, parsed, priced, product, c.scheduled_at, extension
        )
        return MassPlan(draft, parsed, priced, plan)

    def send_mass(self, command: SendMassSend) -> AcceptedSend:
        """A mass send, charged now (or its units locked until its time, or until the
        provider has reviewed it) whole, or refused whole (Q5, Q10): the plan's draft is
        what is accepted, nothing is worked out twice."""
        planned = self.plan_mass(command)
        if not planned.recipients.accepted:
            raise InvalidInput("None of the recipients can be sent to.", field="recipients")
        draft = planned.draft
        if draft.extension is None:  # an account older than codes gets its own now
            draft = replace(draft, extension=self.accounts.extension_of(command.account_id))
        return self._accept(draft, planned.recipients, planned.priced, command.actor)

    def cancel(self, command: CancelSend) -> Send:
        """S7, Q11: cancel a send before it is submitted; its locked units come back."""
        c = command
        self._owned(c.send_id, c.owner)
        return self.lifecycle.cancel(c.send_id, "cancelled_by_account", c.actor, c.request_id)

    def reschedule(self, command: RescheduleSend) -> Send:
        """S7: change the time while at least an hour remains before it."""
        c = command
        self._owned(c.send_id, c.owner)
        return self.lifecycle.reschedule(c.send_id, c.scheduled_at, c.actor, c.request_id)

    def _owned(self, send_id: UUID, owner: UUID | None) -> None:
        """A send is changed by its own account: another's is not found (nothing leaks)."""
        if owner is not None and self.quota.send(send_id).account_id != str(owner):
            raise NotFound(f"No send {send_id}.")

    def _accept(
        self, draft: SendDraft, recipients: RecipientList, priced: Priced, actor: str
    ) -> AcceptedSend:
        send, change = self.acceptance.accept(draft, actor)
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
            case SpreadsheetFile():
                return self._recipients(account_id, self._read_upload(source), placeholders)
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
        raise InvalidInput(
            "A mass send needs recipients, recipients_text, a file or an audience.",
            field="recipients",
        )

    def _read_upload(self, source: RecipientSource) -> RecipientSource:
        """An uploaded file's rows (S3); any other source as it is."""
        if isinstance(source, SpreadsheetFile):
            return SheetRows(self.sheets.read(source.content))
        return source

    def _active_product(self, account_id: UUID, product: object) -> str | None:
        """Q3: a send names a product the account has active (the pool is shared by them,
        each charge recording which product used it, Q4)."""
        chosen = _product(product)
        if chosen is not None and chosen not in self.accounts.account(account_id).products:
            raise NoActiveProduct(
                f"The product {chosen} is not active on this account; activate it first "
                "(POST /v1/accounts/{account_id}/products).",
                field="product",
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


def _draft(
    send_id: UUID | None,
    account_id: UUID,
    template: Template,
    recipients: RecipientList,
    priced: Priced,
    product: str | None,
    scheduled_at: datetime | None,
    extension: str | None,
) -> SendDraft:
    """The send as it will be accepted (its id new unless a keyed retry names it)."""
    return SendDraft(
        send_id=send_id or uuid4(),
        account_id=account_id,
        template_id=template.id,
        template_type=template.type,
        kind=template.kind,
        product=product,
        text=priced.text,
        recipients=tuple(recipients.accepted),
        units=priced.units,
        personal=priced.personal,
        limit_category=limit_category(template.type, template.kind, template.scenario),
        provider_review=needs_provider_review(template.type, template.kind),
        scheduled_at=scheduled_at,
        extension=extension,
    )


def _product(product: object) -> str | None:
    if product is None:
        return None
    try:
        return Product(product if isinstance(product, str) else "").value
    except ValueError:
        choices = ", ".join(p.value for p in Product)
        raise InvalidInput(f"product must be one of: {choices}.", field="product") from None

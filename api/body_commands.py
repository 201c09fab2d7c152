"""Request bodies into typed commands, for the HTTP routes and Kafka's payloads alike.

A body is validated by its pydantic model (``api/schemas.py``) first; what is left to decide
here is what the model cannot say, such as which one source of recipients a mass send names.
"""

from __future__ import annotations

from uuid import UUID

from ..commands.command_types import SendMassSend, SendMessage, SyncCustomer, SyncCustomers
from ..commands.recipient_sources import Audience, Numbers, RecipientSource, TypedNumbers
from ..domain.errors import FieldProblem, InvalidInput
from .routes.times import aware
from .schemas import CustomerBatchIn, CustomerIn, MessageIn, SendIn


def message_command(
    account_id: UUID, body: MessageIn, actor: str, send_id: UUID | None
) -> SendMessage:
    return SendMessage(
        account_id, body.template_id, body.phone, body.variables, body.product, actor, send_id
    )


def mass_send_command(
    account_id: UUID,
    body: SendIn,
    actor: str,
    send_id: UUID | None,
    source: RecipientSource | None = None,
) -> SendMassSend:
    """The send a body asks for (``source``: the Excel import's file instead of the body's)."""
    chosen = source or recipient_source(body)
    if chosen is None:
        message = (
            "A mass send needs recipients (a list), recipients_text (one per line), a file, "
            "or an audience."
        )
        raise InvalidInput(message, [FieldProblem("recipients", "validation_error", "missing")])
    return SendMassSend(
        account_id, body.template_id, chosen, body.variables, body.product, actor, send_id,
        aware(body.scheduled_at),
    )  # fmt: skip


def recipient_source(body: SendIn) -> RecipientSource | None:
    """The one source of recipients the body names; refused when it names several."""
    given: list[RecipientSource] = []
    if body.recipients is not None:
        given.append(Numbers(body.recipients))
    if body.recipients_text is not None:
        given.append(TypedNumbers(body.recipients_text))
    if body.audience is not None:
        given.append(Audience(body.audience))
    if len(given) > 1:
        raise InvalidInput(
            "Give one of recipients, recipients_text, a file or audience, not several.",
            [FieldProblem("recipients", "validation_error", "more than one source of recipients")],
        )
    return given[0] if given else None


def customer_command(account_id: UUID, body: CustomerIn, actor: str) -> SyncCustomer:
    return SyncCustomer(account_id, body.condition, body.phone, body.product, body.name, actor)


def customers_command(account_id: UUID, body: CustomerBatchIn, actor: str) -> SyncCustomers:
    return SyncCustomers(account_id, [c.model_dump() for c in body.customers], actor)

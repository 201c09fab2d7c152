"""Business messages, mass sends, their status, carrier receipts and the dashboard."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from ...commands.recipient_sources import Audience, Numbers, RecipientSource, TypedNumbers
from ...domain.recipients import RejectedInput
from ...domain.sending import Send, SendStatus, message_id, parse_message_id
from ...projections.sends import STATUSES, MessageRow, SendRow
from ..auth import Caller, Principal, Services, require_account_access
from ..bounds import MAX_MESSAGE_CURSOR, MAX_OFFSET, OFFSET_HELP
from ..problems import ApiProblem
from ..schemas import (
    DashboardOut,
    MessageAcceptedOut,
    MessageIn,
    MessageOut,
    MessagePageOut,
    ReceiptAnswerOut,
    ReceiptsIn,
    ReceiptsOut,
    RejectedOut,
    RescheduleIn,
    SendAcceptedOut,
    SendIn,
    SendListOut,
    SendOut,
    SendPlanOut,
    UpcomingSendsOut,
    beijing,
)
from .accounts import keyed_id, request_id
from .times import aware

router = APIRouter(tags=["sending"])
SEND_STATUSES = tuple(s.value for s in SendStatus)


@router.post(
    "/v1/accounts/{account_id}/messages", status_code=202, response_model=MessageAcceptedOut
)
def send_message(
    account_id: UUID, body: MessageIn, request: Request, caller: Caller, c: Services
) -> MessageAcceptedOut:
    """One business message (a verification code, a notice): charged at submission (Q5)."""
    require_account_access(caller, account_id, c)
    accepted = c.sending.send_message(
        account_id, body.template_id, body.phone, body.variables, body.product, caller.actor,
        keyed_id(request, "message"),
    )  # fmt: skip
    send = accepted.send
    return MessageAcceptedOut(
        message_id=message_id(send.id, 0),
        send_id=str(send.id),
        status=send.message_status(0).value,
        units=send.units_per_message,
    )


@router.post(
    "/v1/accounts/{account_id}/sends",
    status_code=202,
    response_model=SendAcceptedOut,
    responses={200: {"model": SendPlanOut, "description": "dry_run: the plan, nothing stored"}},
)
def send_mass(
    account_id: UUID, body: SendIn, request: Request, caller: Caller, c: Services
) -> SendAcceptedOut | JSONResponse:
    """A mass send to up to 10,000 numbers, charged whole or refused whole (Q10)."""
    require_account_access(caller, account_id, c)
    return mass_send(account_id, body, caller, c, keyed_id(request, "send"))


def recipient_source(body: SendIn) -> RecipientSource | None:
    """The one source of recipients the body names; 422 when it names several."""
    given = [
        source
        for present, source in (
            (body.recipients is not None, lambda: Numbers(body.recipients or [])),
            (body.recipients_text is not None, lambda: TypedNumbers(body.recipients_text or "")),
            (body.audience is not None, lambda: Audience(body.audience)),
        )
        if present
    ]
    if len(given) > 1:
        raise ApiProblem(
            422, "validation_error",
            "Give one of recipients, recipients_text, a file or audience, not several.",
            errors=[{"field": "recipients", "code": "validation_error",
                     "message": "more than one source of recipients"}],
        )  # fmt: skip
    return given[0]() if given else None


def mass_send(
    account_id: UUID,
    body: SendIn,
    caller: Principal,
    c: Any,
    send_id: UUID | None,
    source: RecipientSource | None = None,
) -> SendAcceptedOut | JSONResponse:
    """The dry run or the send, for the JSON route and the Excel import (``source``) alike."""
    chosen = source or recipient_source(body)
    if chosen is None:
        raise ApiProblem(
            422, "validation_error",
            "A mass send needs recipients (a list), recipients_text (one per line), a file, "
            "or an audience.",
            errors=[{"field": "recipients", "code": "validation_error", "message": "missing"}],
        )  # fmt: skip
    if body.dry_run:
        plan = c.sending.plan_mass(
            account_id, body.template_id, chosen, body.variables, body.product,
            scheduled_at=aware(body.scheduled_at),
        ).plan  # fmt: skip
        out = SendPlanOut(
            accepted=plan.accepted, units=plan.units, units_per_message=plan.units_per_message,
            available=plan.available, sufficient=plan.units <= plan.available,
            rejected=_rejected(plan.rejected), duplicates=plan.duplicates,
            rate_limited=list(plan.rate_limited), goes_out_at=beijing(plan.goes_out_at),
            scheduled_at=_maybe(plan.scheduled_at),
            provider_review_until=_maybe(plan.review_due_at), text=plan.text,
            messages_by_units=_by_units(plan.messages_by_units),
        )  # fmt: skip
        return JSONResponse(out.model_dump(mode="json"), status_code=200)
    accepted = c.sending.send_mass(
        account_id, body.template_id, chosen, body.variables, body.product, caller.actor,
        send_id, scheduled_at=aware(body.scheduled_at),
    )  # fmt: skip
    return SendAcceptedOut(
        send_id=str(accepted.send.id),
        status=accepted.send.status.value,
        accepted=accepted.plan.accepted,
        units=accepted.plan.units,
        messages_by_units=_by_units(accepted.plan.messages_by_units),
        duplicates=accepted.plan.duplicates,
        rejected=_rejected(accepted.plan.rejected),
        scheduled_at=_maybe(accepted.send.scheduled_at),
        goes_out_at=_maybe(accepted.send.goes_out_at),
    )


def _by_units(counts: dict[int, int]) -> dict[str, int]:
    return {str(units): n for units, n in counts.items()}


@router.post("/v1/sends/{send_id}/cancel", response_model=SendOut)
def cancel_send(send_id: UUID, request: Request, caller: Caller, c: Services) -> SendOut:
    """S7, Q11: cancel a send not yet submitted; its locked units are released at once."""
    _owned_send(send_id, caller, c, owner_only=True)
    return _send_out(c.sending.cancel(send_id, caller.actor, request_id(request, "cancel")))


@router.patch("/v1/sends/{send_id}", response_model=SendOut)
def reschedule_send(
    send_id: UUID, body: RescheduleIn, request: Request, caller: Caller, c: Services
) -> SendOut:
    """S7: a new time, only while at least 1 hour remains before the time now scheduled."""
    _owned_send(send_id, caller, c, owner_only=True)
    when = aware(body.scheduled_at)
    assert when is not None
    rid = request_id(request, "reschedule")
    return _send_out(c.sending.reschedule(send_id, when, caller.actor, rid))


@router.get("/v1/accounts/{account_id}/sends/upcoming", response_model=UpcomingSendsOut)
def upcoming_sends(account_id: UUID, caller: Caller, c: Services) -> UpcomingSendsOut:
    """Sends waiting for their time or the provider's review, with the units they lock."""
    require_account_access(caller, account_id, c)
    rows = c.send_views.upcoming(str(account_id))
    return UpcomingSendsOut(
        items=[_send_row_out(r) for r in rows], units_locked=sum(r.units_locked for r in rows)
    )


@router.get("/v1/accounts/{account_id}/sends", response_model=SendListOut)
def list_sends(
    account_id: UUID,
    caller: Caller,
    c: Services,
    status: Annotated[str | None, Query(description=", ".join(SEND_STATUSES))] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
) -> SendListOut:
    """The account's sends, newest first."""
    require_account_access(caller, account_id, c)
    if status is not None and status not in SEND_STATUSES:
        raise ApiProblem(422, "validation_error", f"status must be one of {SEND_STATUSES}.")
    rows = c.send_views.for_account(str(account_id), status, limit, offset)
    return SendListOut(items=[_send_row_out(r) for r in rows])  # the read model: no loads


@router.get("/v1/sends/{send_id}", response_model=SendOut)
def get_send(send_id: UUID, caller: Caller, c: Services) -> SendOut:
    return _send_out(_owned_send(send_id, caller, c))


@router.get("/v1/sends/{send_id}/messages", response_model=MessagePageOut)
def send_messages(
    send_id: UUID,
    caller: Caller,
    c: Services,
    status: Annotated[str | None, Query(description=", ".join(STATUSES))] = None,
    cursor: Annotated[int, Query(ge=-1, le=MAX_MESSAGE_CURSOR)] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MessagePageOut:
    """Per-recipient status, in recipient order; pass ``next_cursor`` for the next page."""
    _owned_send(send_id, caller, c)
    if status is not None and status not in STATUSES:
        raise ApiProblem(422, "validation_error", f"status must be one of {STATUSES}.")
    rows = c.send_views.messages(str(send_id), status, limit + 1, cursor)
    page = rows[:limit]
    next_cursor = page[-1][0] if len(rows) > limit else None
    return MessagePageOut(items=[_message_out(r) for _, r in page], next_cursor=next_cursor)


@router.get("/v1/messages/{message_id}", response_model=MessageOut)
def get_message(message_id: str, caller: Caller, c: Services) -> MessageOut:
    parsed = parse_message_id(message_id)
    if parsed is None:
        raise ApiProblem(404, "not_found", f"No message {message_id}.")
    _owned_send(parsed[0], caller, c)
    row = c.send_views.message(message_id)
    if row is None:
        raise ApiProblem(404, "not_found", f"No message {message_id} yet.")
    out = _message_out(row)
    out.history = _history(row)
    return out


@router.post("/v1/carrier/receipts", response_model=ReceiptsOut, tags=["carrier"])
def carrier_receipts(body: ReceiptsIn, caller: Caller, c: Services) -> ReceiptsOut:
    """Delivery receipts from the carrier (S10), answered one by one: a receipt counts only
    for a message the carrier was handed that is not final (failures refunded at once, Q7);
    any other is ``ignored`` with its reason and moves nothing."""
    if caller.kind != "carrier":
        raise ApiProblem(403, "forbidden", "Only the carrier posts receipts.")
    outcome = c.receipts.record(body.receipts)
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


@router.get("/v1/accounts/{account_id}/dashboard", response_model=DashboardOut)
def dashboard(account_id: UUID, caller: Caller, c: Services) -> DashboardOut:
    """Delivery dashboard: messages by status, by day and by product; success rate; units."""
    require_account_access(caller, account_id, c)
    figures = c.send_views.dashboard(str(account_id))
    return DashboardOut(account_id=str(account_id), **asdict(figures))


def _owned_send(send_id: UUID, caller: Principal, c: Any, owner_only: bool = False) -> Send:
    """The send, for the operator or its own account; 404 for anyone else (no leak).
    ``owner_only``: changing a send is its account's call, not the operator's."""
    send: Send = c.quota.send(send_id)
    owner = caller.kind == "account" and send.account_id == str(caller.account_id)
    if owner:
        return send
    if caller.is_operator:
        if owner_only:
            raise ApiProblem(403, "forbidden", "Only the send's own account can change it.")
        return send
    raise ApiProblem(404, "not_found", f"No send {send_id}.")


def _send_out(send: Send) -> SendOut:
    return SendOut(
        send_id=str(send.id), account_id=send.account_id, template_id=send.template_id,
        type=send.type, kind=send.kind, product=send.product, status=send.status.value,
        scheduled_at=_maybe(send.scheduled_at), total=send.total, counts=send.counts(),
        units_charged=send.units_charged, units_refunded=send.units_refunded,
        units_locked=send.units_locked, provider_review_until=_maybe(send.review_due_at),
        goes_out_at=_maybe(send.goes_out_at), cancel_reason=send.cancel_reason, text=send.text,
        created_at=beijing(send.created_on),
    )  # fmt: skip


def _send_row_out(row: SendRow) -> SendOut:
    return SendOut(
        send_id=row.send_id, account_id=row.account_id, template_id=row.template_id,
        type=row.type, kind=row.kind, product=row.product, status=row.status,
        scheduled_at=_maybe(row.scheduled_at), total=row.total, counts=row.counts,
        units_charged=row.units_charged, units_refunded=row.units_refunded,
        units_locked=row.units_locked, provider_review_until=_maybe(row.review_due_at),
        goes_out_at=_maybe(row.goes_out_at), cancel_reason=row.cancel_reason, text=row.text,
        created_at=beijing(row.created_at),
    )  # fmt: skip


def _maybe(value: datetime | None) -> datetime | None:
    return beijing(value) if value else None


def _message_out(row: MessageRow) -> MessageOut:
    return MessageOut(
        message_id=row.message_id, send_id=row.send_id, phone=row.phone, status=row.status,
        units=row.units, product=row.product, reason=row.reason,
        carrier_message_id=row.carrier_message_id,
        submitted_at=beijing(row.submitted_at) if row.submitted_at else None,
        final_at=beijing(row.final_at) if row.final_at else None,
    )  # fmt: skip


def _history(row: MessageRow) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [{"status": "pending", "at": beijing(row.created_at)}]
    if row.submitted_at and row.carrier_message_id:  # the carrier took it
        steps.append({"status": "sending", "at": beijing(row.submitted_at)})
    if row.final_at:
        steps.append({"status": row.status, "at": beijing(row.final_at), "reason": row.reason})
    return steps


def _rejected(items: tuple[RejectedInput, ...]) -> list[RejectedOut]:
    return [
        RejectedOut(input=r.input, code=r.code, reason=r.reason, position=r.position) for r in items
    ]

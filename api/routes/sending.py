"""Business messages, mass sends, their status, carrier receipts and the dashboard."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from ...commands.command_types import (
    CancelSend,
    PlanMassSend,
    RecordReceipts,
    RescheduleSend,
    SendMassSend,
)
from ...domain.carrier_lines import read_receipt
from ...domain.sending import Send, SendStatus, parse_message_id
from ...projections.send_queries import STATUSES, MessageRow, SendRow
from ..auth import Caller, Principal, require_account_access
from ..body_commands import mass_send_command, message_command
from ..bounds import MAX_MESSAGE_CURSOR, MAX_OFFSET, OFFSET_HELP
from ..idempotency import keyed_id, request_id
from ..problems import ApiProblem, invalid_field
from ..schemas import (
    DashboardOut,
    MessageAcceptedOut,
    MessageIn,
    MessageOut,
    MessagePageOut,
    ReceiptsIn,
    ReceiptsOut,
    RescheduleIn,
    SendAcceptedOut,
    SendIn,
    SendListOut,
    SendOut,
    SendPlanOut,
    UpcomingSendsOut,
    beijing,
)
from ..services import Accounts, Bus, Quota, SendViews
from ..wire import (
    maybe_beijing,
    message_accepted_out,
    receipts_out,
    send_accepted_out,
    send_out,
    send_plan_out,
)
from .times import aware

router = APIRouter(tags=["sending"])
SEND_STATUSES = tuple(s.value for s in SendStatus)


@router.post(
    "/v1/accounts/{account_id}/messages", status_code=202, response_model=MessageAcceptedOut
)
def send_message(
    account_id: UUID,
    body: MessageIn,
    request: Request,
    caller: Caller,
    bus: Bus,
    accounts: Accounts,
) -> MessageAcceptedOut:
    """One business message (a verification code, a notice): charged at submission (Q5)."""
    require_account_access(caller, account_id, accounts)
    command = message_command(account_id, body, caller.actor, keyed_id(request, "message"))
    return message_accepted_out(bus.handle(command))


@router.post(
    "/v1/accounts/{account_id}/sends",
    status_code=202,
    response_model=SendAcceptedOut,
    responses={200: {"model": SendPlanOut, "description": "dry_run: the plan, nothing stored"}},
)
def send_mass(
    account_id: UUID,
    body: SendIn,
    request: Request,
    caller: Caller,
    bus: Bus,
    accounts: Accounts,
) -> SendAcceptedOut | JSONResponse:
    """A mass send to up to 10,000 numbers, charged whole or refused whole (Q10)."""
    require_account_access(caller, account_id, accounts)
    command = mass_send_command(account_id, body, caller.actor, keyed_id(request, "send"))
    return mass_send_answer(bus, command, body.dry_run)


def mass_send_answer(
    bus: Bus, command: SendMassSend, dry_run: bool
) -> SendAcceptedOut | JSONResponse:
    """The dry run's plan (200, nothing stored), or the accepted send (202)."""
    if dry_run:
        plan = send_plan_out(bus.handle(PlanMassSend(command)))
        return JSONResponse(plan.model_dump(mode="json"), status_code=200)
    return send_accepted_out(bus.handle(command))


@router.post("/v1/sends/{send_id}/cancel", response_model=SendOut)
def cancel_send(send_id: UUID, request: Request, caller: Caller, bus: Bus, quota: Quota) -> SendOut:
    """S7, Q11: cancel a send not yet submitted; its locked units are released at once."""
    _owned_send(send_id, caller, quota, owner_only=True)
    rid = request_id(request, "cancel")
    return send_out(bus.handle(CancelSend(send_id, caller.actor, rid, caller.account_id)))


@router.patch("/v1/sends/{send_id}", response_model=SendOut)
def reschedule_send(
    send_id: UUID, body: RescheduleIn, request: Request, caller: Caller, bus: Bus, quota: Quota
) -> SendOut:
    """S7: a new time, only while at least 1 hour remains before the time now scheduled."""
    _owned_send(send_id, caller, quota, owner_only=True)
    when = aware(body.scheduled_at)
    assert when is not None
    rid = request_id(request, "reschedule")
    return send_out(bus.handle(RescheduleSend(send_id, when, caller.actor, rid, caller.account_id)))


@router.get("/v1/accounts/{account_id}/sends/upcoming", response_model=UpcomingSendsOut)
def upcoming_sends(
    account_id: UUID, caller: Caller, accounts: Accounts, sends: SendViews
) -> UpcomingSendsOut:
    """Sends waiting for their time or the provider's review, with the units they lock."""
    require_account_access(caller, account_id, accounts)
    rows = sends.upcoming(str(account_id))
    return UpcomingSendsOut(
        items=[_send_row_out(r) for r in rows], units_locked=sum(r.units_locked for r in rows)
    )


@router.get("/v1/accounts/{account_id}/sends", response_model=SendListOut)
def list_sends(
    account_id: UUID,
    caller: Caller,
    accounts: Accounts,
    sends: SendViews,
    status: Annotated[
        str | None,
        Query(
            description=", ".join(SEND_STATUSES), json_schema_extra={"enum": list(SEND_STATUSES)}
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
) -> SendListOut:
    """The account's sends, newest first."""
    require_account_access(caller, account_id, accounts)
    if status is not None and status not in SEND_STATUSES:
        raise invalid_field("status", f"status must be one of {SEND_STATUSES}.")
    rows = sends.for_account(str(account_id), status, limit, offset)
    return SendListOut(items=[_send_row_out(r) for r in rows])  # the read model: no loads


@router.get("/v1/sends/{send_id}", response_model=SendOut)
def get_send(send_id: UUID, caller: Caller, quota: Quota) -> SendOut:
    return send_out(_owned_send(send_id, caller, quota))


@router.get("/v1/sends/{send_id}/messages", response_model=MessagePageOut)
def send_messages(
    send_id: UUID,
    caller: Caller,
    quota: Quota,
    sends: SendViews,
    status: Annotated[
        str | None,
        Query(description=", ".join(STATUSES), json_schema_extra={"enum": list(STATUSES)}),
    ] = None,
    cursor: Annotated[int, Query(ge=-1, le=MAX_MESSAGE_CURSOR)] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MessagePageOut:
    """Per-recipient status, in recipient order; pass ``next_cursor`` for the next page."""
    _owned_send(send_id, caller, quota)
    if status is not None and status not in STATUSES:
        raise invalid_field("status", f"status must be one of {STATUSES}.")
    rows = sends.messages(str(send_id), status, limit + 1, cursor)
    page = rows[:limit]
    next_cursor = page[-1][0] if len(rows) > limit else None
    return MessagePageOut(items=[_message_out(r) for _, r in page], next_cursor=next_cursor)


@router.get("/v1/messages/{message_id}", response_model=MessageOut)
def get_message(message_id: str, caller: Caller, quota: Quota, sends: SendViews) -> MessageOut:
    parsed = parse_message_id(message_id)
    if parsed is None:
        raise ApiProblem(404, "not_found", f"No message {message_id}.")
    _owned_send(parsed[0], caller, quota)
    row = sends.message(message_id)
    if row is None:
        raise ApiProblem(404, "not_found", f"No message {message_id} yet.")
    out = _message_out(row)
    out.history = _history(row)
    return out


@router.post("/v1/carrier/receipts", response_model=ReceiptsOut, tags=["carrier"])
def carrier_receipts(body: ReceiptsIn, caller: Caller, bus: Bus) -> ReceiptsOut:
    """Delivery receipts from the carrier (S10), answered one by one: a receipt counts only
    for a message the carrier was handed that is not final (failures refunded at once, Q7);
    any other is ``ignored`` with its reason and moves nothing."""
    if caller.kind != "carrier":
        raise ApiProblem(403, "forbidden", "Only the carrier posts receipts.")
    lines = [read_receipt(item) for item in body.receipts]
    return receipts_out(bus.handle(RecordReceipts(lines)))


@router.get("/v1/accounts/{account_id}/dashboard", response_model=DashboardOut)
def dashboard(
    account_id: UUID, caller: Caller, accounts: Accounts, sends: SendViews
) -> DashboardOut:
    """Delivery dashboard: messages by status, by day and by product; success rate; units."""
    require_account_access(caller, account_id, accounts)
    figures = sends.dashboard(str(account_id))
    return DashboardOut(account_id=str(account_id), **asdict(figures))


def _owned_send(send_id: UUID, caller: Principal, quota: Quota, owner_only: bool = False) -> Send:
    """The send, for the operator or its own account; 404 for anyone else (no leak).
    ``owner_only``: changing a send is its account's call, not the operator's."""
    send = quota.send(send_id)
    owner = caller.kind == "account" and send.account_id == str(caller.account_id)
    if owner:
        return send
    if caller.is_operator:
        if owner_only:
            raise ApiProblem(403, "forbidden", "Only the send's own account can change it.")
        return send
    raise ApiProblem(404, "not_found", f"No send {send_id}.")


def _send_row_out(row: SendRow) -> SendOut:
    return SendOut(
        send_id=row.send_id, account_id=row.account_id, template_id=row.template_id,
        type=row.type, kind=row.kind, product=row.product, status=row.status,
        scheduled_at=maybe_beijing(row.scheduled_at), total=row.total, counts=row.counts,
        units_charged=row.units_charged, units_refunded=row.units_refunded,
        units_locked=row.units_locked, provider_review_until=maybe_beijing(row.review_due_at),
        goes_out_at=maybe_beijing(row.goes_out_at), cancel_reason=row.cancel_reason, text=row.text,
        created_at=beijing(row.created_at),
    )  # fmt: skip


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

"""Synced customers (S4), recipients' replies and the marketing opt-out list."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from ...commands.command_types import RecordReplies, RemoveOptOut
from ...domain.audience import Condition
from ...projections.audience import CustomerRow
from ..auth import Caller, require_account_access
from ..body_commands import customer_command, customers_command
from ..bounds import MAX_OFFSET, OFFSET_HELP
from ..idempotency import request_id
from ..problems import ApiProblem, invalid_field
from ..schemas import (
    CustomerBatchIn,
    CustomerBatchOut,
    CustomerIn,
    CustomerListOut,
    CustomerOut,
    OptOutListOut,
    OptOutOut,
    RepliesIn,
    RepliesOut,
    beijing,
)
from ..services import Accounts, AudienceViews, Bus
from ..wire import customer_out, replies_out

router = APIRouter(tags=["audience"])
CONDITIONS = tuple(c.value for c in Condition)


@router.post(
    "/v1/accounts/{account_id}/customers",
    response_model=CustomerOut | CustomerBatchOut,
    responses={
        201: {"model": CustomerOut, "description": "A customer not synced before."},
        200: {
            "model": CustomerOut | CustomerBatchOut,
            "description": "A customer synced before, or a batch (each with `created`).",
        },
    },
)
def sync_customer(
    account_id: UUID,
    body: CustomerIn | CustomerBatchIn,
    caller: Caller,
    response: Response,
    bus: Bus,
    accounts: Accounts,
) -> CustomerOut | CustomerBatchOut:
    """A customer synced from one of the account's products (S4): 201 when new, 200 when
    the same product + phone + condition was synced before (idempotent).

    Or a batch, ``{"customers": [...]}`` of 1 to 1,000: synced in one transaction, or none
    of them when any is invalid (422, each problem at ``customers[i].field``); 200 with each
    customer and whether it was new."""
    require_account_access(caller, account_id, accounts)
    if isinstance(body, CustomerBatchIn):
        synced = bus.handle(customers_command(account_id, body, caller.actor))
        return CustomerBatchOut(
            synced=len(synced),
            created=sum(s.created for s in synced),
            customers=[customer_out(s) for s in synced],
        )
    one = bus.handle(customer_command(account_id, body, caller.actor))
    response.status_code = 201 if one.created else 200
    return customer_out(one)


@router.get("/v1/accounts/{account_id}/customers", response_model=CustomerListOut)
def list_customers(
    account_id: UUID,
    caller: Caller,
    accounts: Accounts,
    views: AudienceViews,
    condition: Annotated[
        str | None,
        Query(description=", ".join(CONDITIONS), json_schema_extra={"enum": list(CONDITIONS)}),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
) -> CustomerListOut:
    """The account's synced customers, by condition, with the count for each condition."""
    require_account_access(caller, account_id, accounts)
    if condition is not None and condition not in CONDITIONS:
        raise invalid_field("condition", f"condition must be one of {CONDITIONS}.")
    rows = views.customers(str(account_id), condition, limit, offset)
    return CustomerListOut(
        items=[_customer_out(r) for r in rows], counts=views.count_by_condition(str(account_id))
    )


def _customer_out(r: CustomerRow) -> CustomerOut:
    return CustomerOut(
        customer_id=r.customer_id, account_id=r.account_id, condition=r.condition,
        phone=r.phone, product=r.product, name=r.name, synced_at=beijing(r.synced_at),
    )  # fmt: skip


@router.post("/v1/carrier/replies", response_model=RepliesOut, tags=["carrier"])
def carrier_replies(body: RepliesIn, caller: Caller, bus: Bus) -> RepliesOut:
    """Recipients' replies: ``R``, ``TD``, ``T`` and ``退订`` opt the number out of the
    replied account's marketing (or, without ``account_id``, of every account that sent it
    marketing in the last 30 days)."""
    if caller.kind != "carrier":
        raise ApiProblem(403, "forbidden", "Only the carrier posts replies.")
    return replies_out(bus.handle(RecordReplies(body.replies)))


@router.get("/v1/accounts/{account_id}/opt-outs", response_model=OptOutListOut)
def list_opt_outs(
    account_id: UUID,
    caller: Caller,
    accounts: Accounts,
    views: AudienceViews,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
) -> OptOutListOut:
    """Numbers that opted out of the account's marketing, newest first."""
    require_account_access(caller, account_id, accounts)
    rows = views.opt_outs(str(account_id), limit, offset)
    return OptOutListOut(
        items=[
            OptOutOut(phone=r.phone, source=r.source, text=r.text, at=beijing(r.opted_out_at))
            for r in rows
        ]
    )


@router.delete("/v1/accounts/{account_id}/opt-outs/{phone}", status_code=204)
def remove_opt_out(
    account_id: UUID, phone: str, request: Request, caller: Caller, bus: Bus, accounts: Accounts
) -> Response:
    """Take a number off the opt-out list: the account's marketing reaches it again."""
    require_account_access(caller, account_id, accounts)
    bus.handle(RemoveOptOut(account_id, phone, caller.actor, request_id(request, "remove")))
    return Response(status_code=204)

"""Synced customers (S4), recipients' replies and the marketing opt-out list."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from ...domain.audience import Condition
from ...projections.audience import CustomerRow
from ..auth import Caller, Services, require_account_access
from ..bounds import MAX_OFFSET, OFFSET_HELP
from ..problems import ApiProblem
from ..schemas import (
    CustomerIn,
    CustomerListOut,
    CustomerOut,
    OptOutListOut,
    OptOutOut,
    RepliesIn,
    RepliesOut,
    ReplyResultOut,
    beijing,
)
from .accounts import request_id

router = APIRouter(tags=["audience"])
CONDITIONS = tuple(c.value for c in Condition)


@router.post("/v1/accounts/{account_id}/customers", response_model=CustomerOut)
def sync_customer(
    account_id: UUID, body: CustomerIn, caller: Caller, c: Services, response: Response
) -> CustomerOut:
    """A customer synced from one of the account's products (S4): 201 when new, 200 when
    the same product + phone + condition was synced before (idempotent)."""
    require_account_access(caller, account_id, c)
    customer, created = c.audience.sync_customer(
        account_id, body.condition, body.phone, body.product, body.name, caller.actor
    )
    response.status_code = 201 if created else 200
    return CustomerOut(
        customer_id=str(customer.id), account_id=customer.account_id,
        condition=customer.condition, phone=customer.phone, product=customer.product,
        name=customer.name, synced_at=beijing(customer.synced_at), created=created,
    )  # fmt: skip


@router.get("/v1/accounts/{account_id}/customers", response_model=CustomerListOut)
def list_customers(
    account_id: UUID,
    caller: Caller,
    c: Services,
    condition: Annotated[str | None, Query(description=", ".join(CONDITIONS))] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
) -> CustomerListOut:
    """The account's synced customers, by condition, with the count for each condition."""
    require_account_access(caller, account_id, c)
    if condition is not None and condition not in CONDITIONS:
        raise ApiProblem(422, "validation_error", f"condition must be one of {CONDITIONS}.")
    rows = c.audience_views.customers(str(account_id), condition, limit, offset)
    return CustomerListOut(
        items=[_customer_out(r) for r in rows],
        counts=c.audience_views.count_by_condition(str(account_id)),
    )


def _customer_out(r: CustomerRow) -> CustomerOut:
    return CustomerOut(
        customer_id=r.customer_id, account_id=r.account_id, condition=r.condition,
        phone=r.phone, product=r.product, name=r.name, synced_at=beijing(r.synced_at),
    )  # fmt: skip


@router.post("/v1/carrier/replies", response_model=RepliesOut, tags=["carrier"])
def carrier_replies(body: RepliesIn, caller: Caller, c: Services) -> RepliesOut:
    """Recipients' replies: ``R``, ``TD``, ``T`` and ``退订`` opt the number out of the
    replied account's marketing (or, without ``account_id``, of every account that sent it
    marketing in the last 30 days)."""
    if caller.kind != "carrier":
        raise ApiProblem(403, "forbidden", "Only the carrier posts replies.")
    c.read_models.catch_up()  # "sent marketing lately" is read from the sends read model
    outcome = c.audience.record_replies(body.replies, c.send_views, c.accounts.exists)
    return RepliesOut(
        opted_out=outcome.opted_out, already=outcome.already, ignored=outcome.ignored,
        unmatched=outcome.unmatched, rejected=outcome.rejected,
        results=[ReplyResultOut(index=r.index, outcome=r.outcome, reason=r.reason,
                                accounts=list(r.accounts)) for r in outcome.results],
    )  # fmt: skip


@router.get("/v1/accounts/{account_id}/opt-outs", response_model=OptOutListOut)
def list_opt_outs(
    account_id: UUID,
    caller: Caller,
    c: Services,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
) -> OptOutListOut:
    """Numbers that opted out of the account's marketing, newest first."""
    require_account_access(caller, account_id, c)
    rows = c.audience_views.opt_outs(str(account_id), limit, offset)
    return OptOutListOut(
        items=[
            OptOutOut(phone=r.phone, source=r.source, text=r.text, at=beijing(r.opted_out_at))
            for r in rows
        ]
    )


@router.delete("/v1/accounts/{account_id}/opt-outs/{phone}", status_code=204)
def remove_opt_out(
    account_id: UUID, phone: str, request: Request, caller: Caller, c: Services
) -> Response:
    """Take a number off the opt-out list: the account's marketing reaches it again."""
    require_account_access(caller, account_id, c)
    c.audience.remove_opt_out(account_id, phone, caller.actor, request_id(request, "remove"))
    return Response(status_code=204)

"""Templates, their review and message notifications (T1–T11)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from ...commands.command_types import (
    ApproveTemplate,
    DeleteTemplate,
    EditTemplate,
    RejectTemplate,
    SubmitTemplate,
    SwitchNotification,
)
from ...projections.templates import TemplateRow
from ..auth import Caller, Principal, require_account_access, require_operator
from ..bounds import MAX_OFFSET, OFFSET_HELP
from ..idempotency import keyed_id, request_id
from ..problems import ApiProblem, invalid_field
from ..schemas import (
    EditTemplateIn,
    NewTemplateIn,
    NotificationIn,
    NotificationsOut,
    ReasonOut,
    RejectIn,
    TemplateListOut,
    TemplateOut,
    TemplateSummaryOut,
    beijing,
)
from ..services import Accounts, Bus, Templates, TemplateViews
from ..wire import notifications_out, template_out

router = APIRouter(tags=["templates"])

STATUSES = ("pending_review", "approved", "rejected")


def owner_of(caller: Principal) -> UUID | None:
    """Whose templates the caller may touch: the operator any (None), an account its own."""
    if caller.is_operator:
        return None
    if caller.kind != "account":
        raise ApiProblem(403, "forbidden", "This token may not act on templates.")
    return caller.account_id


@router.post("/v1/accounts/{account_id}/templates", status_code=201, response_model=TemplateOut)
def submit_template(
    account_id: UUID,
    body: NewTemplateIn,
    request: Request,
    caller: Caller,
    bus: Bus,
    accounts: Accounts,
) -> TemplateOut:
    """Submit a template for review. A mass template is pre-screened at once (T10): a clear
    case comes back ``rejected`` with its reasons; the rest waits for a person (T5)."""
    require_account_access(caller, account_id, accounts)
    template = bus.handle(
        SubmitTemplate(
            account_id, body.type, body.kind, body.scenario, body.signature, body.content,
            caller.actor, keyed_id(request, "template"),
        )
    )  # fmt: skip
    return template_out(template)


@router.get("/v1/accounts/{account_id}/templates", response_model=TemplateListOut)
def list_templates(
    account_id: UUID,
    caller: Caller,
    accounts: Accounts,
    views: TemplateViews,
    status: Annotated[
        str | None,
        Query(description=", ".join(STATUSES), json_schema_extra={"enum": list(STATUSES)}),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
) -> TemplateListOut:
    """The account's templates, newest first; deleted ones never appear (T7)."""
    require_account_access(caller, account_id, accounts)
    if status is not None and status not in STATUSES:
        raise invalid_field("status", f"status must be one of: {', '.join(STATUSES)}.")
    rows = views.for_account(str(account_id), status, limit, offset)
    return TemplateListOut(items=[summary_out(r) for r in rows])


@router.get("/v1/templates/{template_id}", response_model=TemplateOut)
def get_template(template_id: UUID, caller: Caller, templates: Templates) -> TemplateOut:
    """One template with every version and its history (the operator, or its owner)."""
    return template_out(templates.template(template_id, owner_of(caller)))


@router.put("/v1/templates/{template_id}", response_model=TemplateOut)
def edit_template(
    template_id: UUID, body: EditTemplateIn, request: Request, caller: Caller, bus: Bus
) -> TemplateOut:
    """Edit a rejected template and resubmit it, any number of times (T6)."""
    template = bus.handle(
        EditTemplate(template_id, owner_of(caller), body.signature, body.content, caller.actor,
                     request_id(request, "resubmit"))
    )  # fmt: skip
    return template_out(template)


@router.post("/v1/templates/{template_id}/approve", response_model=TemplateOut)
def approve_template(template_id: UUID, request: Request, caller: Caller, bus: Bus) -> TemplateOut:
    require_operator(caller)
    rid = request_id(request, "approve")
    return template_out(bus.handle(ApproveTemplate(template_id, caller.actor, rid)))


@router.post("/v1/templates/{template_id}/reject", response_model=TemplateOut)
def reject_template(
    template_id: UUID, body: RejectIn, request: Request, caller: Caller, bus: Bus
) -> TemplateOut:
    require_operator(caller)
    rid = request_id(request, "reject")
    return template_out(bus.handle(RejectTemplate(template_id, body.reason, caller.actor, rid)))


@router.delete("/v1/templates/{template_id}", response_model=TemplateOut)
def delete_template(template_id: UUID, request: Request, caller: Caller, bus: Bus) -> TemplateOut:
    """Delete an approved template: it is no longer listed nor usable (T7)."""
    rid = request_id(request, "delete")
    return template_out(
        bus.handle(DeleteTemplate(template_id, owner_of(caller), caller.actor, rid))
    )


@router.get("/v1/review/queue", response_model=TemplateListOut, tags=["review"])
def review_queue(
    caller: Caller,
    views: TemplateViews,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
) -> TemplateListOut:
    """Templates waiting for review, oldest first, each with ``review_due_at`` (T5)."""
    require_operator(caller)
    return TemplateListOut(items=[summary_out(r) for r in views.review_queue(limit, offset)])


@router.put(
    "/v1/accounts/{account_id}/notifications/{name}",
    response_model=NotificationsOut,
    tags=["accounts"],
)
def switch_notification(
    account_id: UUID,
    name: str,
    body: NotificationIn,
    caller: Caller,
    bus: Bus,
    accounts: Accounts,
) -> NotificationsOut:
    """Switch ``guestbook`` or ``member_registration`` on or off, with no review (T9)."""
    require_account_access(caller, account_id, accounts)
    states = bus.handle(SwitchNotification(account_id, name, body.enabled, caller.actor))
    return notifications_out(account_id, states)


@router.get(
    "/v1/accounts/{account_id}/notifications", response_model=NotificationsOut, tags=["accounts"]
)
def notifications(account_id: UUID, caller: Caller, accounts: Accounts) -> NotificationsOut:
    require_account_access(caller, account_id, accounts)
    return notifications_out(account_id, accounts.account(account_id).notification_states())


def summary_out(r: TemplateRow) -> TemplateSummaryOut:
    return TemplateSummaryOut(
        template_id=r.template_id,
        account_id=r.account_id,
        type=r.type,
        kind=r.kind,
        scenario=r.scenario,
        signature=r.signature,
        content=r.content,
        status=r.status,
        reasons=[ReasonOut(**x) for x in r.reasons],
        flags=[ReasonOut(**x) for x in r.flags],
        review_due_at=beijing(r.review_due_at) if r.review_due_at else None,
        version=r.version,
        submitted_at=beijing(r.submitted_at),
    )

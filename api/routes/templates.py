"""Templates, their review and message notifications (T1–T11)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from ...domain.templates import Template
from ...projections.templates import TemplateRow
from ..auth import Caller, Principal, Services, require_account_access, require_operator
from ..bounds import MAX_OFFSET, OFFSET_HELP
from ..problems import ApiProblem
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
from .accounts import keyed_id, request_id

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
    account_id: UUID, body: NewTemplateIn, request: Request, caller: Caller, c: Services
) -> TemplateOut:
    """Submit a template for review. A mass template is pre-screened at once (T10): a clear
    case comes back ``rejected`` with its reasons; the rest waits for a person (T5)."""
    require_account_access(caller, account_id, c)
    template = c.templates.submit(
        account_id, body.model_dump(), caller.actor, keyed_id(request, "template")
    )
    return template_out(template)


@router.get("/v1/accounts/{account_id}/templates", response_model=TemplateListOut)
def list_templates(
    account_id: UUID,
    caller: Caller,
    c: Services,
    status: Annotated[str | None, Query(description=", ".join(STATUSES))] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
) -> TemplateListOut:
    """The account's templates, newest first; deleted ones never appear (T7)."""
    require_account_access(caller, account_id, c)
    if status is not None and status not in STATUSES:
        raise ApiProblem(422, "validation_error", f"status must be one of: {', '.join(STATUSES)}.")
    rows = c.template_views.for_account(str(account_id), status, limit, offset)
    return TemplateListOut(items=[summary_out(r) for r in rows])


@router.get("/v1/templates/{template_id}", response_model=TemplateOut)
def get_template(template_id: UUID, caller: Caller, c: Services) -> TemplateOut:
    """One template with every version and its history (the operator, or its owner)."""
    return template_out(c.templates.template(template_id, owner_of(caller)))


@router.put("/v1/templates/{template_id}", response_model=TemplateOut)
def edit_template(
    template_id: UUID, body: EditTemplateIn, request: Request, caller: Caller, c: Services
) -> TemplateOut:
    """Edit a rejected template and resubmit it, any number of times (T6)."""
    template = c.templates.resubmit(
        template_id, owner_of(caller), body.signature, body.content, caller.actor,
        request_id(request, "resubmit"),
    )  # fmt: skip
    return template_out(template)


@router.post("/v1/templates/{template_id}/approve", response_model=TemplateOut)
def approve_template(
    template_id: UUID, request: Request, caller: Caller, c: Services
) -> TemplateOut:
    require_operator(caller)
    decided = c.templates.approve(template_id, caller.actor, request_id(request, "approve"))
    return template_out(decided)


@router.post("/v1/templates/{template_id}/reject", response_model=TemplateOut)
def reject_template(
    template_id: UUID, body: RejectIn, request: Request, caller: Caller, c: Services
) -> TemplateOut:
    require_operator(caller)
    decided = c.templates.reject(
        template_id, body.reason, caller.actor, request_id(request, "reject")
    )
    return template_out(decided)


@router.delete("/v1/templates/{template_id}", response_model=TemplateOut)
def delete_template(
    template_id: UUID, request: Request, caller: Caller, c: Services
) -> TemplateOut:
    """Delete an approved template: it is no longer listed nor usable (T7)."""
    deleted = c.templates.delete(
        template_id, owner_of(caller), caller.actor, request_id(request, "delete")
    )
    return template_out(deleted)


@router.get("/v1/review/queue", response_model=TemplateListOut, tags=["review"])
def review_queue(
    caller: Caller,
    c: Services,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
) -> TemplateListOut:
    """Templates waiting for review, oldest first, each with ``review_due_at`` (T5)."""
    require_operator(caller)
    return TemplateListOut(
        items=[summary_out(r) for r in c.template_views.review_queue(limit, offset)]
    )


@router.put(
    "/v1/accounts/{account_id}/notifications/{name}",
    response_model=NotificationsOut,
    tags=["accounts"],
)
def switch_notification(
    account_id: UUID, name: str, body: NotificationIn, caller: Caller, c: Services
) -> NotificationsOut:
    """Switch ``guestbook`` or ``member_registration`` on or off, with no review (T9)."""
    require_account_access(caller, account_id, c)
    states = c.accounts.switch_notification(account_id, name, body.enabled, caller.actor)
    return NotificationsOut(account_id=str(account_id), notifications=states)


@router.get(
    "/v1/accounts/{account_id}/notifications", response_model=NotificationsOut, tags=["accounts"]
)
def notifications(account_id: UUID, caller: Caller, c: Services) -> NotificationsOut:
    require_account_access(caller, account_id, c)
    states = c.accounts.account(account_id).notification_states()
    return NotificationsOut(account_id=str(account_id), notifications=states)


def template_out(t: Template) -> TemplateOut:
    return TemplateOut(
        template_id=str(t.id),
        account_id=t.account_id,
        type=t.type,
        kind=t.kind,
        scenario=t.scenario,
        signature=t.signature,
        content=t.content,
        status=t.status.value,
        reasons=[ReasonOut(**r) for r in t.reasons],
        flags=[ReasonOut(**r) for r in t.flags],
        review_due_at=beijing(t.review_due_at) if t.review_due_at else None,
        version=t.version_number,
        submitted_at=beijing(t.submitted_at),
        placeholders=t.placeholders,
        versions=[_in_beijing(v) for v in t.versions],
        history=[_in_beijing(h) for h in t.history],
        changes=t.changes_since_previous(),
    )


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


def _in_beijing(record: dict[str, object]) -> dict[str, object]:
    """History and versions keep UTC ISO times; they go out in Beijing time like the rest."""
    return {
        key: beijing(datetime.fromisoformat(value)).isoformat()
        if key in ("at", "submitted_at") and isinstance(value, str)
        else value
        for key, value in record.items()
    }

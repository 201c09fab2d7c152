"""审核队列 Review queue: the operator's templates awaiting review, oldest first, each with its
due time (overdue ones marked), the pre-screen's flags, and approving or rejecting with a
reason (T5, T10), through the API's commands."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from ...commands.command_types import ApproveTemplate, RejectTemplate
from ...domain.errors import DomainError
from ...projections.templates import TemplateRow
from ..auth import Principal, require_operator
from ..problems import STATUS_BY_CODE
from ..schemas import beijing
from ..services import Bus, Directory, Templates, TemplateViews
from .access import CheckedForm, Viewer
from .refusals import refusal_of
from .rendering import MOUNT, language_of, page
from .session import put_notice, take_notice

router = APIRouter()
SHOWN = 200  # the oldest waiting; a reviewer works from the top


@router.get("/review")
def review_queue(
    request: Request, caller: Viewer, views: TemplateViews, templates: Templates,
    directory: Directory,
) -> Response:  # fmt: skip
    require_operator(caller)
    return _page(request, caller, views, templates, directory)


@router.post("/review/{template_id}/approve")
def approve(
    template_id: UUID, request: Request, _: CheckedForm, caller: Viewer, bus: Bus,
    views: TemplateViews, templates: Templates, directory: Directory,
) -> Response:  # fmt: skip
    require_operator(caller)
    try:
        bus.handle(ApproveTemplate(template_id, caller.actor))
    except DomainError as refused:
        return _page(request, caller, views, templates, directory, refused, template_id)
    put_notice(request, {"approved": str(template_id)})
    return RedirectResponse(f"{MOUNT}/review", status_code=303)


@router.post("/review/{template_id}/reject")
def reject(
    template_id: UUID, request: Request, form: CheckedForm, caller: Viewer, bus: Bus,
    views: TemplateViews, templates: Templates, directory: Directory,
) -> Response:  # fmt: skip
    """Reject with the reviewer's reason (the domain refuses an empty one)."""
    require_operator(caller)
    reason = str(form.get("reason") or "").strip() or None
    try:
        bus.handle(RejectTemplate(template_id, reason, caller.actor))
    except DomainError as refused:
        return _page(request, caller, views, templates, directory, refused, template_id)
    put_notice(request, {"rejected": str(template_id)})
    return RedirectResponse(f"{MOUNT}/review", status_code=303)


def _page(
    request: Request,
    caller: Principal,
    views: TemplateViews,
    templates: Templates,
    directory: Directory,
    refused: DomainError | None = None,
    refused_id: UUID | None = None,
) -> Response:
    now = templates.clock.now()  # the service's time (simulated under SMS_SIMULATION)
    waiting = views.review_queue(SHOWN, 0)
    names = directory.names(r.account_id for r in waiting)
    rows = [_waiting(r, now) | {"account_name": names.get(r.account_id)} for r in waiting]
    return page(
        request, "review_queue.html",
        status=STATUS_BY_CODE.get(refused.code, 409) if refused else 200,
        caller=caller, rows=rows, notice=take_notice(request),
        refusal=refusal_of(refused, language_of(request)) if refused else None,
        refused_id=str(refused_id) if refused_id else None, here=f"{MOUNT}/review",
    )  # fmt: skip


def _waiting(row: TemplateRow, now: datetime) -> dict[str, object]:
    due = row.review_due_at
    return {
        **vars(row),
        "submitted": beijing(row.submitted_at).strftime("%Y-%m-%d %H:%M"),
        "due": beijing(due).strftime("%Y-%m-%d %H:%M") if due else None,
        "overdue": due is not None and due < now,
    }

"""模板 Templates: the account's list with status and review due time, submitting (T2, T3,
T10, T11 refusals shown by their fields), one template's history with the changes between
its versions, edit and resubmit (T6), delete (T7), through the API's commands."""

from __future__ import annotations

import difflib
from itertools import pairwise
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from ...commands.command_types import DeleteTemplate, EditTemplate, SubmitTemplate
from ...domain.errors import DomainError
from ...domain.templates import Template
from ...projections.templates import TemplateRow
from ..auth import Principal
from ..problems import STATUS_BY_CODE
from ..schemas import beijing
from ..services import Bus, Templates, TemplateViews
from ..wire import template_out
from .access import AccountViewer, CheckedForm
from .refusals import Refusal, refusal_of
from .rendering import MOUNT, language_of, page
from .session import put_notice, take_notice

router = APIRouter()
LISTED = 200  # the newest templates shown; an account has tens, rarely more
TYPES = ("business", "mass")
KINDS = ("marketing", "notice", "custom")
SCENARIOS = ("register", "reset_password", "booking", "form")


@router.get("/accounts/{account_id}/templates")
def templates_list(
    account_id: UUID, request: Request, caller: AccountViewer, views: TemplateViews
) -> Response:
    return _list_page(request, caller, account_id, views)


@router.post("/accounts/{account_id}/templates")
def submit(
    account_id: UUID, request: Request, form: CheckedForm, caller: AccountViewer, bus: Bus,
    views: TemplateViews,
) -> Response:  # fmt: skip
    """The API's submission; a refusal re-renders the form with each problem at its field."""
    entered = {f: _text(form, f) for f in ("type", "kind", "scenario", "signature", "content")}
    try:
        made = bus.handle(
            SubmitTemplate(account_id, entered["type"], entered["kind"], entered["scenario"],
                           entered["signature"], entered["content"], caller.actor)
        )  # fmt: skip
    except DomainError as refused:
        return _list_page(request, caller, account_id, views, refused, entered)
    put_notice(request, {"submitted": made.status.value})
    return RedirectResponse(f"{MOUNT}/accounts/{account_id}/templates/{made.id}", status_code=303)


@router.get("/accounts/{account_id}/templates/{template_id}")
def template_page(
    account_id: UUID, template_id: UUID, request: Request, caller: AccountViewer,
    templates: Templates,
) -> Response:  # fmt: skip
    return _detail_page(request, caller, account_id, template_id, templates)


@router.post("/accounts/{account_id}/templates/{template_id}/edit")
def edit(
    account_id: UUID, template_id: UUID, request: Request, form: CheckedForm,
    caller: AccountViewer, bus: Bus, templates: Templates,
) -> Response:  # fmt: skip
    """Edit and resubmit (T6: a rejected template only)."""
    _owned(templates, template_id, account_id)
    entered = {f: _text(form, f) for f in ("signature", "content")}
    try:
        bus.handle(EditTemplate(template_id, account_id, entered["signature"],
                                entered["content"], caller.actor))  # fmt: skip
    except DomainError as refused:
        return _detail_page(request, caller, account_id, template_id, templates, refused, entered)
    put_notice(request, {"resubmitted": True})
    return RedirectResponse(_detail(account_id, template_id), status_code=303)


@router.post("/accounts/{account_id}/templates/{template_id}/delete")
def delete(
    account_id: UUID, template_id: UUID, request: Request, _: CheckedForm,
    caller: AccountViewer, bus: Bus, templates: Templates,
) -> Response:  # fmt: skip
    """Delete (T7: an approved template only)."""
    _owned(templates, template_id, account_id)
    try:
        bus.handle(DeleteTemplate(template_id, account_id, caller.actor))
    except DomainError as refused:
        return _detail_page(request, caller, account_id, template_id, templates, refused)
    put_notice(request, {"deleted": True})
    return RedirectResponse(f"{MOUNT}/accounts/{account_id}/templates", status_code=303)


def diff_segments(before: str, after: str) -> list[tuple[str, str]]:
    """``after`` against ``before`` character by character (Chinese has no spaces between
    words): ("same" | "removed" | "added", text) runs, in reading order."""
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("same", before[a1:a2]))
            continue
        if a2 > a1:
            runs.append(("removed", before[a1:a2]))
        if b2 > b1:
            runs.append(("added", after[b1:b2]))
    return runs


def _owned(templates: Templates, template_id: UUID, account_id: UUID) -> Template:
    """The template, when it is this page's account's (else NotFound: the 404 page)."""
    return templates.template(template_id, account_id)


def _text(form: FormData, name: str) -> str | None:
    """A field as typed; an empty one is absent, so the domain names it missing."""
    value = str(form.get(name) or "").strip()
    return value or None


def _detail(account_id: UUID, template_id: UUID) -> str:
    return f"{MOUNT}/accounts/{account_id}/templates/{template_id}"


def _refusal(request: Request, refused: DomainError | None) -> tuple[Refusal | None, int]:
    if refused is None:
        return None, 200
    return refusal_of(refused, language_of(request)), STATUS_BY_CODE.get(refused.code, 409)


def _list_page(request: Request, caller: Principal, account_id: UUID, views: TemplateViews,
               refused: DomainError | None = None,
               entered: dict[str, str | None] | None = None) -> Response:  # fmt: skip
    refusal, status = _refusal(request, refused)
    rows = [_listed(r) for r in views.for_account(str(account_id), None, LISTED, 0)]
    return page(
        request, "templates.html", status=status, caller=caller, account_id=account_id,
        rows=rows, refusal=refusal, at_field=_at_field(refusal), entered=entered or {},
        types=TYPES, kinds=KINDS, scenarios=SCENARIOS, notice=take_notice(request),
        here=f"{MOUNT}/accounts/{account_id}/templates",
    )  # fmt: skip


def _detail_page(request: Request, caller: Principal, account_id: UUID, template_id: UUID,
                 templates: Templates, refused: DomainError | None = None,
                 entered: dict[str, str | None] | None = None) -> Response:  # fmt: skip
    template = template_out(_owned(templates, template_id, account_id))
    versions = template.versions
    changes = [
        (earlier["version"], later["version"],
         diff_segments(str(earlier["content"]), str(later["content"])),
         earlier["signature"] != later["signature"], earlier["signature"], later["signature"])
        for earlier, later in pairwise(versions)
    ]  # fmt: skip
    refusal, status = _refusal(request, refused)
    return page(
        request, "template.html", status=status, caller=caller, account_id=account_id,
        shown=template, changes=changes, refusal=refusal, at_field=_at_field(refusal),
        entered=entered or {}, notice=take_notice(request),
        here=_detail(account_id, template_id),
    )  # fmt: skip


def _listed(row: TemplateRow) -> dict[str, object]:
    """A row as the list shows it: times in Beijing."""
    due = row.review_due_at if row.status == "pending_review" else None
    return {**vars(row), "due": beijing(due).strftime("%Y-%m-%d %H:%M") if due else None}


def _at_field(refusal: Refusal | None) -> dict[str, str]:
    """Each refused field's messages, to show beside its input."""
    found: dict[str, str] = {}
    for field, _, message in refusal.fields if refusal else []:
        found[field] = f"{found[field]} {message}" if field in found else message
    return found

"""发送 Send: choosing a template and recipients (pasted numbers, an Excel file or an audience of
synced customers), the dry run's plan (accepted, refused with reasons, units, the numbers the
limits would fail, when it goes out), confirming, a send's live progress and its failed
numbers, reschedule and cancel.

The plan and the send are the API's: the same command (``mass_send_command``) planned by
``PlanMassSend`` and then sent. The confirm form carries what the plan was made of (the typed
numbers, or the uploaded file as base64) and a send id made with the plan, so a second click
finds the send the first made instead of sending twice.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from ...commands.accounts import AccountsApp
from ...commands.command_types import CancelSend, PlanMassSend, RescheduleSend, SendMassSend
from ...commands.recipient_sources import Audience, RecipientSource, SpreadsheetFile, TypedNumbers
from ...domain.errors import DomainError, FieldProblem, InvalidInput, NotFound
from ...domain.message_status import SendStatus
from ...domain.recipient_files import MAX_FILE_BYTES
from ...projections.audience import AudienceQueries
from ...projections.send_queries import SendQueries
from ...projections.templates import TemplateQueries
from ..body_commands import mass_send_command
from ..problems import STATUS_BY_CODE, ApiProblem
from ..routes.times import as_instant
from ..schemas import SendIn, beijing
from ..services import Accounts, AudienceViews, Bus, Quota, SendViews, TemplateViews
from .access import AccountViewer, CheckedForm
from .refusals import refusal_of
from .rendering import MOUNT, language_of, page
from .session import put_notice, take_notice

router = APIRouter()
LISTED = 50
FAILED_SHOWN = 200
WAITING = (SendStatus.SCHEDULED, SendStatus.AWAITING_PROVIDER_REVIEW)


@dataclass(frozen=True)
class FormViews:
    """What the send form shows: approved templates, the latest sends, the account's
    products and its audience sizes."""

    sends: SendQueries
    templates: TemplateQueries
    accounts: AccountsApp
    audience: AudienceQueries


def _form_views(sends: SendViews, templates: TemplateViews, accounts: Accounts,
                audience: AudienceViews) -> FormViews:  # fmt: skip
    return FormViews(sends, templates, accounts, audience)


FormViewsOf = Annotated[FormViews, Depends(_form_views)]


@router.get("/accounts/{account_id}/sends")
def sends_page(
    account_id: UUID, request: Request, caller: AccountViewer, views: FormViewsOf,
) -> Response:  # fmt: skip
    return _form_page(request, caller, account_id, views)


@router.post("/accounts/{account_id}/sends/plan")
def plan(
    account_id: UUID, request: Request, form: CheckedForm, caller: AccountViewer, bus: Bus,
    views: FormViewsOf,
) -> Response:  # fmt: skip
    """The dry run of what the form asks for; nothing is stored."""
    try:
        sheet = _uploaded(form)
        command = _command(account_id, form, caller.actor, uuid4(), sheet)
        planned = bus.handle(PlanMassSend(command))
    except DomainError as refused:
        return _form_page(request, caller, account_id, views, refused, form)
    return page(
        request, "send_plan.html", caller=caller, account_id=account_id, plan=planned,
        goes_out=_when(planned.goes_out_at), scheduled=_when(planned.scheduled_at),
        carried=_carried(form, sheet, command.send_id),
        here=f"{MOUNT}/accounts/{account_id}/sends",
    )  # fmt: skip


@router.post("/accounts/{account_id}/sends")
def confirm(
    account_id: UUID, request: Request, form: CheckedForm, caller: AccountViewer, bus: Bus,
    views: FormViewsOf,
) -> Response:  # fmt: skip
    """The planned send, sent: charged whole or refused whole (the domain decides again)."""
    try:
        sheet = _carried_sheet(form)
        send_id = UUID(str(form.get("send_id") or ""))
        accepted = bus.handle(_command(account_id, form, caller.actor, send_id, sheet))
    except DomainError as refused:
        return _form_page(request, caller, account_id, views, refused, form)
    except ValueError:  # a send id or file that is not what the plan page wrote
        changed = _invalid("send_id", "not a send id", "The plan's form was changed.")
        return _form_page(request, caller, account_id, views, changed, form)
    put_notice(request, {"sent": accepted.plan.accepted})
    return RedirectResponse(_send_url(account_id, accepted.send.id), status_code=303)


@router.get("/accounts/{account_id}/sends/{send_id}")
def send_page(
    account_id: UUID, send_id: UUID, request: Request, caller: AccountViewer, quota: Quota,
    sends: SendViews,
) -> Response:  # fmt: skip
    return _send_page(request, caller, account_id, send_id, quota, sends)


@router.get("/accounts/{account_id}/sends/{send_id}/progress")
def progress(
    account_id: UUID, send_id: UUID, request: Request, _: AccountViewer, quota: Quota
) -> Response:
    """The progress bar alone, for htmx to refresh in place until every message is final."""
    return page(request, "send_progress.html", **_progress(_owned(quota, send_id, account_id)),
                account_id=account_id, send_id=send_id)  # fmt: skip


@router.post("/accounts/{account_id}/sends/{send_id}/reschedule")
def reschedule(
    account_id: UUID, send_id: UUID, request: Request, form: CheckedForm,
    caller: AccountViewer, bus: Bus, quota: Quota, sends: SendViews,
) -> Response:  # fmt: skip
    _owned(quota, send_id, account_id)
    try:
        when = _instant(form, "scheduled_at")
        if when is None:
            raise _invalid("scheduled_at", "missing", "Give the new time.")
        bus.handle(RescheduleSend(send_id, when, caller.actor, owner=account_id))
    except DomainError as refused:
        return _send_page(request, caller, account_id, send_id, quota, sends, refused)
    put_notice(request, {"rescheduled": True})
    return RedirectResponse(_send_url(account_id, send_id), status_code=303)


@router.post("/accounts/{account_id}/sends/{send_id}/cancel")
def cancel(
    account_id: UUID, send_id: UUID, request: Request, _: CheckedForm, caller: AccountViewer,
    bus: Bus, quota: Quota, sends: SendViews,
) -> Response:  # fmt: skip
    _owned(quota, send_id, account_id)
    try:
        bus.handle(CancelSend(send_id, caller.actor, owner=account_id))
    except DomainError as refused:
        return _send_page(request, caller, account_id, send_id, quota, sends, refused)
    put_notice(request, {"cancelled": True})
    return RedirectResponse(_send_url(account_id, send_id), status_code=303)


# -- the form's parts ------------------------------------------------------------------------


def _command(account_id: UUID, form: FormData, actor: str, send_id: UUID,
             sheet: bytes | None) -> SendMassSend:  # fmt: skip
    """The API's mass send of the form: its template, product, time and one source."""
    try:
        template_id = UUID(str(form.get("template_id") or ""))
    except ValueError:
        raise _invalid("template_id", "missing", "Choose a template.") from None
    typed = str(form.get("recipients_text") or "").strip()
    conditions = [str(c) for c in form.getlist("audience")]
    sources: list[RecipientSource] = []
    if typed:
        sources.append(TypedNumbers(typed))
    if sheet is not None:
        sources.append(SpreadsheetFile(sheet))
    if conditions:
        sources.append(Audience({"conditions": conditions}))
    if len(sources) > 1:
        raise _invalid("recipients", "more than one source of recipients",
                       "Paste numbers, upload a file or pick an audience, not two.")  # fmt: skip
    body = SendIn(template_id=template_id, scheduled_at=_instant(form, "scheduled_at"),
                  product=str(form.get("product") or "") or None)  # fmt: skip
    return mass_send_command(account_id, body, actor, send_id, sources[0] if sources else None)


def _uploaded(form: FormData) -> bytes | None:
    upload = form.get("sheet")

    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return upload.file.read(MAX_FILE_BYTES + 1)  # more is refused by the domain: too_large


def _carried_sheet(form: FormData) -> bytes | None:
    carried = str(form.get("sheet_base64") or "")
    if not carried:
        return None
    try:
        return base64.b64decode(carried, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None


def _carried(form: FormData, sheet: bytes | None, send_id: UUID | None) -> list[tuple[str, str]]:
    """What the confirm form posts again (name, value pairs): the plan's inputs and its send
    id."""
    carried = [
        ("template_id", str(form.get("template_id") or "")),
        ("product", str(form.get("product") or "")),
        ("scheduled_at", str(form.get("scheduled_at") or "")),
        ("recipients_text", str(form.get("recipients_text") or "") if sheet is None else ""),
        ("sheet_base64", base64.b64encode(sheet).decode() if sheet is not None else ""),
        ("send_id", str(send_id or "")),
    ]
    return carried + [("audience", str(c)) for c in form.getlist("audience")]


def _instant(form: FormData, name: str) -> datetime | None:
    """A datetime-local field (Beijing time, as every console time) as an instant."""
    typed = str(form.get(name) or "").strip()
    if not typed:
        return None
    try:
        return as_instant(typed, name)
    except ApiProblem:  # the API's 422 problem, as a domain refusal here
        raise _invalid(name, "not a time", f"{name} is not a time.") from None


def _invalid(field: str, problem: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, [FieldProblem(field, "validation_error", problem)])


def _when(at: datetime | None) -> str | None:
    return beijing(at).strftime("%Y-%m-%d %H:%M") if at else None


def _send_url(account_id: UUID, send_id: UUID) -> str:
    return f"{MOUNT}/accounts/{account_id}/sends/{send_id}"


# -- the pages ---------------------------------------------------------------------------------


def _form_page(request: Request, caller: Any, account_id: UUID, views: FormViews,
               refused: DomainError | None = None,
               form: FormData | None = None) -> Response:  # fmt: skip
    approved = views.templates.for_account(str(account_id), "approved", 200, 0)
    listed = [_listed(r) for r in views.sends.for_account(str(account_id), None, LISTED, 0)]
    entered = {k: str(v) for k, v in form.items() if isinstance(v, str)} if form else {}
    picked = set(form.getlist("audience")) if form else set()
    return page(
        request, "sends.html", status=STATUS_BY_CODE.get(refused.code, 409) if refused else 200,
        caller=caller, account_id=account_id, templates=approved, sends=listed,
        products=views.accounts.account(account_id).products, entered=entered,
        audience=views.audience.count_by_condition(str(account_id)), picked=picked,
        refusal=refusal_of(refused, language_of(request)) if refused else None,
        notice=take_notice(request), here=f"{MOUNT}/accounts/{account_id}/sends",
    )  # fmt: skip


def _send_page(request: Request, caller: Any, account_id: UUID, send_id: UUID, quota: Quota,
               sends: SendViews, refused: DomainError | None = None) -> Response:  # fmt: skip
    send = _owned(quota, send_id, account_id)
    failed = [row for _, row in sends.messages(str(send_id), "failed", FAILED_SHOWN, -1)]
    return page(
        request, "send.html", status=STATUS_BY_CODE.get(refused.code, 409) if refused else 200,
        caller=caller, account_id=account_id, send_id=send_id, send=send,
        waiting=send.status in WAITING, scheduled=_when(send.scheduled_at),
        failed=failed, **_progress(send), notice=take_notice(request),
        refusal=refusal_of(refused, language_of(request)) if refused else None,
    )  # fmt: skip


def _owned(quota: Quota, send_id: UUID, account_id: UUID) -> Any:
    """The send, when it is this page's account's (else NotFound: the 404 page)."""
    send = quota.send(send_id)
    if send.account_id != str(account_id):
        raise NotFound(f"No send {send_id}.")
    return send


def _progress(send: Any) -> dict[str, Any]:
    counts: dict[str, int] = send.counts()
    total = sum(counts.values())
    final = counts["success"] + counts["failed"] + counts["unknown"]
    percent = 100 if total == 0 else final * 100 // total
    return {"counts": counts, "total": total, "final": final, "percent": percent,
            "finished": send.status in (SendStatus.COMPLETED, SendStatus.CANCELLED)}  # fmt: skip


def _listed(row: Any) -> dict[str, Any]:
    return {
        "send_id": row.send_id, "status": row.status, "total": row.total,
        "created": _when(row.created_at), "scheduled": _when(row.scheduled_at),
        "units": row.units_charged or row.units_locked, "text": row.text,
    }  # fmt: skip

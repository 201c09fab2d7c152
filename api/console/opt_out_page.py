"""退订 The opt-out list of an account, a page at a time (the API's order and paging), and
taking a number off it with the API's command. Numbers join the list only by replying
(``R``, ``TD``, ``T``, ``退订``): the API has no other way in, so neither has the console."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from ...commands.command_types import RemoveOptOut
from ...domain.errors import DomainError
from ..bounds import MAX_OFFSET
from ..problems import STATUS_BY_CODE
from ..schemas import beijing
from ..services import AudienceViews, Bus
from .access import AccountViewer, CheckedForm
from .refusals import Refusal, refusal_of
from .rendering import MOUNT, language_of, page
from .session import put_notice, take_notice

router = APIRouter()
PAGE_SIZE = 50


@router.get("/accounts/{account_id}/opt-outs")
def opt_outs(
    account_id: UUID,
    request: Request,
    caller: AccountViewer,
    views: AudienceViews,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    return _page(request, caller, account_id, views, offset)


@router.post("/accounts/{account_id}/opt-outs/remove")
def remove_opt_out(
    account_id: UUID,
    request: Request,
    form: CheckedForm,
    caller: AccountViewer,
    bus: Bus,
    views: AudienceViews,
) -> Response:
    """The API's removal: a number not on the list (or no phone number) is refused."""
    phone = str(form.get("phone") or "").strip()
    try:
        bus.handle(RemoveOptOut(account_id, phone, caller.actor))
    except DomainError as refused:
        status = STATUS_BY_CODE.get(refused.code, 409)
        shown = refusal_of(refused, language_of(request))
        return _page(request, caller, account_id, views, 0, status, shown, phone)
    put_notice(request, {"removed": phone})
    return RedirectResponse(f"{MOUNT}/accounts/{account_id}/opt-outs", status_code=303)


def _page(request: Request, caller: Any, account_id: UUID, views: AudienceViews, offset: int,
          status: int = 200, refusal: Refusal | None = None,
          phone: str = "") -> Response:  # fmt: skip
    rows = views.opt_outs(str(account_id), PAGE_SIZE + 1, offset)
    listed = [
        {"phone": r.phone, "source": r.source, "text": r.text,
         "at": beijing(r.opted_out_at).strftime("%Y-%m-%d %H:%M")}
        for r in rows[:PAGE_SIZE]
    ]  # fmt: skip
    more = len(rows) > PAGE_SIZE and offset + PAGE_SIZE <= MAX_OFFSET
    return page(
        request, "opt_outs.html", status=status, caller=caller, account_id=account_id,
        rows=listed, next_offset=offset + PAGE_SIZE if more else None, refusal=refusal,
        phone=phone, notice=take_notice(request), here=f"{MOUNT}/accounts/{account_id}/opt-outs",
    )  # fmt: skip

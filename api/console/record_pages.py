"""发送记录 Records: an account's messages with filters and failure reasons, keyset paged,
and the filtered result as CSV or xlsx, through the API's records query and file code."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from ...projections.message_records import RecordFilter
from ...projections.send_queries import STATUSES
from ..problems import ApiProblem
from ..record_cursor import decode_cursor, encode_cursor
from ..record_files import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from ..routes.records import record_filter, records_file
from ..schemas import beijing
from ..services import RecordViews
from .access import AccountViewer
from .refusals import refusal_of_problem
from .rendering import page

router = APIRouter()
PAGE_SIZE = 50
FILTERS = ("from", "to", "status", "send_id", "phone")


@router.get("/accounts/{account_id}/records")
def records_page(
    account_id: UUID, request: Request, caller: AccountViewer, records: RecordViews
) -> Response:
    chosen = _chosen(request)
    try:
        where = _filter(account_id, chosen)
        cursor = request.query_params.get("cursor") or None
        after = decode_cursor(cursor) if cursor else None
    except ApiProblem as problem:
        return _page(request, caller, account_id, chosen, [], None, problem)
    rows = records.page(where, after, PAGE_SIZE + 1)
    shown = rows[:PAGE_SIZE]
    next_cursor = encode_cursor(shown[-1].key) if len(rows) > PAGE_SIZE else None
    items = [
        {"at": beijing(r.created_at).strftime("%Y-%m-%d %H:%M:%S"), "phone": r.phone,
         "template_id": r.template_id, "status": r.status, "reason": r.reason or "",
         "units": r.units, "send_id": r.send_id}
        for r in shown
    ]  # fmt: skip
    return _page(request, caller, account_id, chosen, items, next_cursor, None)


@router.get("/accounts/{account_id}/records.csv")
def records_csv(
    account_id: UUID, request: Request, caller: AccountViewer, records: RecordViews
) -> Response:
    return _file(account_id, request, caller, records, CSV_MEDIA_TYPE)


@router.get("/accounts/{account_id}/records.xlsx")
def records_xlsx(
    account_id: UUID, request: Request, caller: AccountViewer, records: RecordViews
) -> Response:
    return _file(account_id, request, caller, records, XLSX_MEDIA_TYPE)


def _file(
    account_id: UUID, request: Request, caller: Any, records: RecordViews, media_type: str
) -> Response:
    """The API's export, streamed; a bad filter is the records page's refusal instead."""
    chosen = _chosen(request)
    try:
        where = _filter(account_id, chosen)
    except ApiProblem:
        return records_page(account_id, request, caller, records)
    return records_file(records.chunks(where, None), media_type, account_id)


def _chosen(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip() for name in FILTERS}


def _filter(account_id: UUID, chosen: dict[str, str]) -> RecordFilter:
    send_id = chosen["send_id"]
    try:
        send = UUID(send_id) if send_id else None
    except ValueError:
        raise ApiProblem(
            422, "validation_error", "send_id must be a send's id (a UUID).",
            errors=[{"field": "send_id", "code": "validation_error", "message": "not a UUID"}],
        ) from None  # fmt: skip
    return record_filter(
        account_id, chosen["from"] or None, chosen["to"] or None, chosen["status"] or None,
        send, chosen["phone"] or None,
    )  # fmt: skip


def _page(
    request: Request, caller: Any, account_id: UUID, chosen: dict[str, str],
    items: list[dict[str, Any]], next_cursor: str | None, problem: ApiProblem | None,
) -> Response:  # fmt: skip
    query = urlencode({k: v for k, v in chosen.items() if v})
    refusal = refusal_of_problem(problem) if problem is not None else None
    return page(
        request, "records.html", status=problem.status if problem else 200, caller=caller,
        account_id=account_id, chosen=chosen, statuses=STATUSES, items=items,
        refusal=refusal, query=query,
        next_query=urlencode({**{k: v for k, v in chosen.items() if v}, "cursor": next_cursor})
        if next_cursor else None,
    )  # fmt: skip

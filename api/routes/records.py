"""An account's per-message records (a page of JSON, or the whole filtered result as a CSV or
xlsx file) and its delivery statistics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from ...domain.errors import InvalidPhone, NotMainlandMobile
from ...domain.phones import parse_mainland_mobile
from ...projections.message_records import MessageRecord, RecordFilter
from ...projections.message_statistics import GROUPINGS, Figures
from ...projections.send_queries import STATUSES
from ..auth import Caller, require_account_access
from ..problems import ApiProblem
from ..record_cursor import decode_cursor, encode_cursor
from ..record_files import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_lines, xlsx_pieces
from ..record_schemas import (
    FiguresOut,
    MessageRecordOut,
    MessageRecordPageOut,
    StatisticsGroupOut,
    StatisticsOut,
)
from ..schemas import beijing
from ..services import Accounts, RecordViews, StatisticsViews
from .times import as_instant

router = APIRouter(prefix="/v1/accounts/{account_id}", tags=["records"])

MAX_PAGE = 1000
JSON_TYPES = ("application/json", "application/*", "*/*")
TIME_HELP = "ISO 8601; without an offset, Beijing time."
FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}},
        "description": "A page of JSON; with Accept: text/csv or the xlsx type, every "
        "filtered message as a file (streamed).",
    }
}


CreatedFrom = Annotated[
    str | None, Query(alias="from", description=f"Created at or after. {TIME_HELP}")
]
CreatedBefore = Annotated[str | None, Query(description=f"Created before. {TIME_HELP}")]


@router.get("/messages", response_model=MessageRecordPageOut, responses=FILES)
def message_records(
    account_id: UUID,
    request: Request,
    caller: Caller,
    accounts: Accounts,
    records: RecordViews,
    from_: CreatedFrom = None,
    to: CreatedBefore = None,
    status: Annotated[
        str | None,
        Query(description=", ".join(STATUSES), json_schema_extra={"enum": list(STATUSES)}),
    ] = None,
    send_id: UUID | None = None,
    phone: Annotated[str | None, Query(description="Mainland mobile; +86/86 allowed.")] = None,
    cursor: Annotated[
        str | None, Query(description="next_cursor of the previous page", max_length=400)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="JSON pages only")] = 100,
) -> MessageRecordPageOut | StreamingResponse:
    """Every message of the account, oldest first (by acceptance, then send and recipient
    order), filtered; a page of JSON by default. With ``Accept: text/csv`` or
    ``application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`` the whole filtered
    result (from ``cursor`` on, if one is given) as a file, streamed."""
    require_account_access(caller, account_id, accounts)
    where = record_filter(account_id, from_, to, status, send_id, phone)
    after = decode_cursor(cursor) if cursor is not None else None
    wanted = _file_type(request.headers.get("accept", ""))
    if wanted is not None:
        return records_file(records.chunks(where, after), wanted, account_id)
    rows = records.page(where, after, limit + 1)
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].key) if len(rows) > limit else None
    return MessageRecordPageOut(items=[_record_out(r) for r in page], next_cursor=next_cursor)


def record_filter(
    account_id: UUID,
    from_: str | None,
    to: str | None,
    status: str | None,
    send_id: UUID | None,
    phone: str | None,
) -> RecordFilter:
    """The records' filter from the query's values; ApiProblem (422) for a bad one. Shared
    with the console's records page."""
    return RecordFilter(
        account_id=str(account_id),
        start=as_instant(from_, "from") if from_ else None,
        end=as_instant(to, "to") if to else None,
        status=_status(status),
        send_id=str(send_id) if send_id else None,
        phone=_phone(phone) if phone is not None else None,
    )


def records_file(
    chunks: Iterator[list[MessageRecord]], media_type: str, account_id: UUID
) -> StreamingResponse:
    """The rows as a CSV or xlsx attachment, written as the chunks are read."""
    body: Iterator[str] | Iterator[bytes]
    if media_type == CSV_MEDIA_TYPE:
        body, suffix, media_type = csv_lines(chunks), "csv", f"{CSV_MEDIA_TYPE}; charset=utf-8"
    else:
        body, suffix = xlsx_pieces(chunks), "xlsx"
    disposition = f'attachment; filename="messages-{account_id}.{suffix}"'
    return StreamingResponse(
        body, media_type=media_type, headers={"Content-Disposition": disposition}
    )


@router.get("/statistics", response_model=StatisticsOut)
def statistics(
    account_id: UUID,
    caller: Caller,
    accounts: Accounts,
    figures: StatisticsViews,
    from_: CreatedFrom = None,
    to: CreatedBefore = None,
    group_by: Annotated[
        str,
        Query(
            description="day (Beijing), template or product",
            json_schema_extra={"enum": list(GROUPINGS)},
        ),
    ] = "day",
) -> StatisticsOut:
    """Sent, success, failed, unknown, units charged and refunded and the success rate
    (success / (success + failed + unknown)) by group, and their totals; counted as the
    dashboard counts (``sent`` is every message asked for, pending and sending included)."""
    require_account_access(caller, account_id, accounts)
    if group_by not in GROUPINGS:
        allowed = ", ".join(GROUPINGS)
        raise ApiProblem(
            422,
            "validation_error",
            f"group_by must be one of {allowed}.",
            errors=[{"field": "group_by", "code": "invalid_choice", "message": allowed}],
        )
    start = as_instant(from_, "from") if from_ else None
    end = as_instant(to, "to") if to else None
    found = figures.of(str(account_id), group_by, start, end)
    return StatisticsOut(
        account_id=str(account_id),
        group_by=group_by,
        from_=beijing(start) if start else None,
        to=beijing(end) if end else None,
        groups=[StatisticsGroupOut(key=key, **_figures(f)) for key, f in found.groups],
        totals=FiguresOut(**_figures(found.totals)),
    )


def _file_type(accept: str) -> str | None:
    """The file the client asks for: CSV or xlsx if ``Accept`` names one before JSON (or
    ``*/*``); None for JSON."""
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in (CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE):
            return media
        if media in JSON_TYPES:
            return None
    return None


def _status(value: str | None) -> str | None:
    if value is not None and value not in STATUSES:
        allowed = ", ".join(STATUSES)
        raise ApiProblem(
            422,
            "validation_error",
            f"status must be one of {allowed}.",
            errors=[{"field": "status", "code": "invalid_choice", "message": allowed}],
        )
    return value


def _phone(value: str) -> str:
    """The number as messages store it (S1: 11 digits, +86/86 taken off)."""
    try:
        return parse_mainland_mobile(value)
    except (InvalidPhone, NotMainlandMobile) as exc:
        raise ApiProblem(
            422,
            "validation_error",
            str(exc),
            errors=[{"field": "phone", "code": exc.code, "message": str(exc)}],
        ) from None


def _figures(f: Figures) -> dict[str, int | float | None]:
    return {
        "sent": f.sent,
        **f.counts,
        "units_charged": f.units_charged,
        "units_refunded": f.units_refunded,
        "success_rate": f.success_rate,
    }


def _record_out(r: MessageRecord) -> MessageRecordOut:
    return MessageRecordOut(
        message_id=r.message_id, send_id=r.send_id, template_id=r.template_id, phone=r.phone,
        status=r.status, reason=r.reason, units=r.units, product=r.product,
        carrier_message_id=r.carrier_message_id, created_at=beijing(r.created_at),
        submitted_at=beijing(r.submitted_at) if r.submitted_at else None,
        final_at=beijing(r.final_at) if r.final_at else None,
    )  # fmt: skip

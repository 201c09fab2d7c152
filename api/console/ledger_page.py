"""额度流水 Ledger: entries with the API's filters (time range, kinds), a page at a time by
sequence, the balance at an instant, and the filtered entries as the API's CSV."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ...domain.ledger import EntryKind
from ...projections.quota_ledger import LedgerRow
from ..bounds import MAX_SEQUENCE
from ..problems import ApiProblem
from ..routes.quota import MAX_PAGE, ledger_csv, ledger_query
from ..routes.times import as_instant
from ..schemas import beijing
from ..services import Ledger
from .access import AccountViewer
from .refusals import Refusal, refusal_of_problem
from .rendering import MOUNT, page

router = APIRouter()
PAGE_SIZE = 50
KINDS = tuple(k.value for k in EntryKind)
From = Annotated[str, Query(alias="from")]
Kinds = Annotated[list[str] | None, Query()]
Cursor = Annotated[int, Query(ge=0, le=MAX_SEQUENCE)]


@router.get("/accounts/{account_id}/ledger")
def ledger_page(
    account_id: UUID,
    request: Request,
    caller: AccountViewer,
    ledger: Ledger,
    from_: From = "",
    to: str = "",
    kind: Kinds = None,
    cursor: Cursor = 0,
    at: str = "",
) -> Response:
    """The entries, oldest first; a malformed filter or instant is refused inline (422)."""
    shown = {"from": from_, "to": to, "kinds": kind or [], "at": at}
    try:
        query = ledger_query(account_id, from_ or None, to or None, kind or [], cursor,
                             PAGE_SIZE + 1)  # fmt: skip
        instant = as_instant(at, "at") if at else None
    except ApiProblem as refused:
        return _page(request, caller, account_id, shown, refusal=refusal_of_problem(refused))
    rows = ledger.entries(query)
    entries, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    balance = ledger.balance(str(account_id), instant) if instant else None
    return _page(
        request, caller, account_id, shown, entries=[_row(r) for r in entries],
        next_cursor=entries[-1].sequence if more else None, balance=balance,
        balance_at=beijing(instant).strftime("%Y-%m-%d %H:%M") if instant else None,
    )  # fmt: skip


@router.get("/accounts/{account_id}/ledger.csv")
def ledger_download(
    account_id: UUID,
    _: AccountViewer,
    ledger: Ledger,
    from_: From = "",
    to: str = "",
    kind: Kinds = None,
    cursor: Cursor = 0,
) -> Response:
    """The filtered entries as the API's ledger CSV (``Accept: text/csv``): up to the API's
    largest page from ``cursor``; ``X-Next-Cursor`` names where the rest starts."""
    query = ledger_query(account_id, from_ or None, to or None, kind or [], cursor, MAX_PAGE + 1)
    rows = ledger.entries(query)
    chunk, more = rows[:MAX_PAGE], len(rows) > MAX_PAGE
    headers = {"Content-Disposition": f'attachment; filename="ledger-{account_id}.csv"'}
    if more:
        headers["X-Next-Cursor"] = str(chunk[-1].sequence)
    return Response(ledger_csv(chunk), media_type="text/csv; charset=utf-8", headers=headers)


def _row(r: LedgerRow) -> dict[str, Any]:
    return {
        "sequence": r.sequence, "at": beijing(r.at).strftime("%Y-%m-%d %H:%M:%S"),
        "kind": r.kind, "units": r.units, "change": r.available_change,
        "available_after": r.available_after, "locked_after": r.locked_after,
        "reference": f"{r.reference.type} {r.reference.id}",
        "related": f"{r.related.type} {r.related.id}" if r.related else "",
    }  # fmt: skip


def _page(request: Request, caller: Any, account_id: UUID, shown: dict[str, Any],
          refusal: Refusal | None = None, **context: Any) -> Response:  # fmt: skip
    return page(
        request, "ledger.html", status=422 if refusal else 200, caller=caller,
        account_id=account_id, shown=shown, kinds=KINDS, refusal=refusal,
        filters=urlencode([("from", shown["from"]), ("to", shown["to"])]
                          + [("kind", k) for k in shown["kinds"]]),
        here=f"{MOUNT}/accounts/{account_id}/ledger", **context,
    )  # fmt: skip

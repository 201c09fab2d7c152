"""Packages, balance, the quota history (ledger) and alerts (Q1–Q5, Q9–Q12)."""

from __future__ import annotations

import csv
import io
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ...commands.command_types import BuyPackage, RefundPackage
from ...domain.ledger import EntryKind
from ...projections.quota_ledger import LedgerQuery, LedgerRow
from ..auth import Caller, require_account_access
from ..bounds import MAX_SEQUENCE
from ..idempotency import keyed_id
from ..problems import invalid_field
from ..schemas import (
    AccountBalanceOut,
    AlertOut,
    AlertsOut,
    BalanceOut,
    LedgerEntryOut,
    LedgerPageOut,
    PurchaseIn,
    PurchaseOut,
    ReferenceOut,
    beijing,
)
from ..services import Accounts, Alerts, Bus, Ledger
from ..wire import purchase_out
from .times import as_instant

router = APIRouter(prefix="/v1/accounts/{account_id}", tags=["quota"])

MAX_PAGE = 1000
CSV_COLUMNS = [
    "entry_id", "sequence", "at", "kind", "units", "available_change", "available_after",
    "locked_after", "reference_type", "reference_id", "related_type", "related_id",
    "product", "actor",
]  # fmt: skip


@router.post("/purchases", status_code=201, response_model=PurchaseOut)
def buy_package(
    account_id: UUID,
    body: PurchaseIn,
    request: Request,
    caller: Caller,
    bus: Bus,
    accounts: Accounts,
) -> PurchaseOut:
    """Buy a 1,000, 5,000 or 10,000-unit package (Q1); needs an active product (Q3)."""
    require_account_access(caller, account_id, accounts)
    purchase_id = str(keyed_id(request, "purchase") or uuid4())
    change = bus.handle(BuyPackage(account_id, body.package_size, purchase_id, caller.actor))
    return purchase_out(purchase_id, body.package_size, change)


@router.post(
    "/purchases/{purchase_id}/refund",
    status_code=409,
    responses={409: {"description": "Always: packages are not refundable (Q2)."}},
)
def refund_package(
    account_id: UUID, purchase_id: str, caller: Caller, bus: Bus, accounts: Accounts
) -> None:
    """Packages are never refunded (Q2): always 409 ``not_refundable``; nothing changes."""
    require_account_access(caller, account_id, accounts)
    bus.handle(RefundPackage(account_id, purchase_id))


@router.get("/balance", response_model=AccountBalanceOut)
def balance(
    account_id: UUID,
    caller: Caller,
    accounts: Accounts,
    ledger: Ledger,
    as_of: Annotated[
        str | None, Query(description="ISO 8601 instant; naive means Beijing time (Q12).")
    ] = None,
) -> AccountBalanceOut:
    require_account_access(caller, account_id, accounts)
    instant = as_instant(as_of, "as_of") if as_of else None
    figures = ledger.balance(str(account_id), instant)
    return AccountBalanceOut(
        account_id=str(account_id),
        as_of=beijing(instant) if instant else None,
        **BalanceOut.of(figures).model_dump(),
    )


@router.get(
    "/ledger",
    response_model=LedgerPageOut,
    responses={
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV on Accept: text/csv"}
    },
)
def ledger(
    account_id: UUID,
    request: Request,
    caller: Caller,
    accounts: Accounts,
    ledger_views: Ledger,
    from_: Annotated[str | None, Query(alias="from", description="Entries at or after.")] = None,
    to: Annotated[str | None, Query(description="Entries before.")] = None,
    kind: Annotated[
        list[str] | None, Query(description="purchase, lock, release, charge, refund")
    ] = None,
    cursor: Annotated[
        int, Query(ge=0, le=MAX_SEQUENCE, description="next_cursor of the previous page")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> LedgerPageOut | Response:
    """The quota history, oldest first (Q12). ``Accept: text/csv`` gives the same rows as CSV."""
    require_account_access(caller, account_id, accounts)
    rows = ledger_views.entries(ledger_query(account_id, from_, to, kind or [], cursor, limit + 1))
    page, more = rows[:limit], len(rows) > limit
    next_cursor = page[-1].sequence if more else None
    if "text/csv" in request.headers.get("accept", ""):
        headers = {"X-Next-Cursor": str(next_cursor)} if next_cursor else {}
        return Response(ledger_csv(page), media_type="text/csv; charset=utf-8", headers=headers)
    return LedgerPageOut(items=[_entry_out(r) for r in page], next_cursor=next_cursor)


@router.get("/alerts", response_model=AlertsOut)
def alerts(account_id: UUID, caller: Caller, accounts: Accounts, alerts: Alerts) -> AlertsOut:
    """Alerts raised for the account, newest first (Q9 ``low_balance``)."""
    require_account_access(caller, account_id, accounts)
    return AlertsOut(
        items=[
            AlertOut(
                alert_id=a.alert_id,
                kind=a.kind,
                at=beijing(a.at),
                phone=a.phone,
                message_id=a.message_id,
                available=a.available,
            )
            for a in alerts.for_account(str(account_id))
        ]
    )


def ledger_query(
    account_id: UUID, from_: str | None, to: str | None, kinds: list[str], cursor: int, limit: int
) -> LedgerQuery:
    """The ledger query of the request's filters (the console's ledger page uses it too);
    a malformed time or kind is refused (422)."""
    return LedgerQuery(
        account_id=str(account_id),
        start=as_instant(from_, "from") if from_ else None,
        end=as_instant(to, "to") if to else None,
        kinds=_kinds(kinds),
        after_sequence=cursor,
        limit=limit,
    )


def _kinds(values: list[str]) -> tuple[EntryKind, ...]:
    names = [v.strip() for value in values for v in value.split(",") if v.strip()]
    try:
        return tuple(EntryKind(n) for n in names)
    except ValueError:
        allowed = ", ".join(k.value for k in EntryKind)
        raise invalid_field("kind", f"kind must be among: {allowed}.") from None


def _entry_out(row: LedgerRow) -> LedgerEntryOut:
    return LedgerEntryOut(
        entry_id=row.entry_id,
        sequence=row.sequence,
        at=beijing(row.at),
        kind=row.kind,
        units=row.units,
        available_change=row.available_change,
        available_after=row.available_after,
        locked_after=row.locked_after,
        reference=ReferenceOut(type=row.reference.type, id=row.reference.id),
        related=ReferenceOut(type=row.related.type, id=row.related.id) if row.related else None,
        product=row.product,
        actor=row.actor,
    )


def ledger_csv(rows: list[LedgerRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.entry_id, r.sequence, beijing(r.at).isoformat(), r.kind, r.units,
                r.available_change, r.available_after, r.locked_after, r.reference.type,
                r.reference.id, r.related.type if r.related else "",
                r.related.id if r.related else "", r.product or "", r.actor,
            ]
        )  # fmt: skip
    return out.getvalue()

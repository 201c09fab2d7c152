"""概览 Overview: an account's units, the packages it bought, its low-balance state, and
buying a package (Q1–Q3, Q9), through the same queries and bus command as the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from ...commands.command_types import BuyPackage
from ...domain.errors import DomainError
from ...domain.ledger import EntryKind
from ...domain.packages import PACKAGE_SIZES
from ...domain.quota import LOW_BALANCE_THRESHOLD
from ...projections.quota_ledger import LedgerQuery
from ..problems import STATUS_BY_CODE
from ..schemas import beijing
from ..services import Accounts, Alerts, Bus, Ledger
from .access import AccountViewer, CheckedForm
from .refusals import Refusal, refusal_of
from .rendering import MOUNT, language_of, page
from .session import put_notice, take_notice

router = APIRouter()
PURCHASES_SHOWN = 100


@dataclass(frozen=True)
class Overview:
    account_id: UUID
    name: str
    products: list[str]
    available: int
    locked: int
    purchased: int
    purchases: list[dict[str, Any]]
    low_balance: bool
    last_alert_at: str | None


@router.get("/accounts/{account_id}/")
def overview(
    account_id: UUID,
    request: Request,
    caller: AccountViewer,
    accounts: Accounts,
    ledger: Ledger,
    alerts: Alerts,
) -> Response:
    return _page(request, caller, _overview(account_id, accounts, ledger, alerts))


@router.get("/accounts/{account_id}/balance")
def balance_fragment(
    account_id: UUID, request: Request, _: AccountViewer, ledger: Ledger
) -> Response:
    """The units panel alone, for htmx to refresh in place."""
    figures = ledger.balance(str(account_id))
    return page(
        request, "balance_panel.html", account_id=account_id,
        available=figures.available, locked=figures.locked,
        low_balance=figures.available < LOW_BALANCE_THRESHOLD, threshold=LOW_BALANCE_THRESHOLD,
    )  # fmt: skip


@router.post("/accounts/{account_id}/purchases")
def buy_package(
    account_id: UUID,
    request: Request,
    form: CheckedForm,
    caller: AccountViewer,
    bus: Bus,
    accounts: Accounts,
    ledger: Ledger,
    alerts: Alerts,
) -> Response:
    """The API's purchase: the domain decides (Q1 sizes, Q3 products); a refusal is shown
    with its code and message, the page answering with the API's status for it."""
    size = _package_size(str(form.get("package_size") or ""))
    try:
        change = bus.handle(BuyPackage(account_id, size, str(uuid4()), caller.actor))
    except DomainError as refused:
        shown = refusal_of(refused, language_of(request))
        status = STATUS_BY_CODE.get(refused.code, 409)
        view = _overview(account_id, accounts, ledger, alerts)
        return _page(request, caller, view, status=status, refusal=shown, size=size)
    put_notice(request, {"bought": size, "available": change.balance.available})
    return RedirectResponse(f"{MOUNT}/accounts/{account_id}/", status_code=303)


def _package_size(raw: str) -> object:
    """The posted size as a number when it is one; the domain refuses any other (Q1)."""
    try:
        return int(raw.strip())
    except ValueError:
        return raw


def _page(request: Request, caller: Any, view: Overview, status: int = 200,
          refusal: Refusal | None = None, size: object = None) -> Response:  # fmt: skip
    return page(
        request, "overview.html", status=status, caller=caller, view=view,
        sizes=PACKAGE_SIZES, refusal=refusal, chosen_size=size,
        notice=take_notice(request), threshold=LOW_BALANCE_THRESHOLD,
        here=f"{MOUNT}/accounts/{view.account_id}/",
    )  # fmt: skip


def _overview(account_id: UUID, accounts: Accounts, ledger: Ledger, alerts: Alerts) -> Overview:
    account = accounts.account(account_id)
    figures = ledger.balance(str(account_id))
    bought = ledger.entries(
        LedgerQuery(str(account_id), kinds=(EntryKind.PURCHASE,), limit=PURCHASES_SHOWN)
    )
    low = [a for a in alerts.for_account(str(account_id), limit=20) if a.kind == "low_balance"]
    return Overview(
        account_id=account_id,
        name=account.name,
        products=list(account.products),
        available=figures.available,
        locked=figures.locked,
        purchased=figures.purchased_total,
        purchases=[
            {"at": beijing(e.at).strftime("%Y-%m-%d %H:%M"), "units": e.units} for e in bought
        ],
        low_balance=figures.available < LOW_BALANCE_THRESHOLD,
        last_alert_at=beijing(low[0].at).strftime("%Y-%m-%d %H:%M") if low else None,
    )

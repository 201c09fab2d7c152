"""The operator's list of accounts with their balances, a page at a time, and opening any
account by its id (the API's rule: one that does not exist is not found, 404)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from ...domain.quota import LOW_BALANCE_THRESHOLD
from ...projections.account_directory import AccountListing, AccountPage
from ..auth import require_account_access, require_operator
from ..schemas import beijing
from ..services import Accounts, Directory
from .access import CheckedForm, Viewer
from .rendering import MOUNT, page

router = APIRouter()
PAGE_SIZE = 50


@router.get("/accounts")
def accounts_list(
    request: Request, caller: Viewer, directory: Directory, name: str = "", after: str = ""
) -> Response:
    require_operator(caller)
    listed = directory.page(name.strip(), _keyset(after), PAGE_SIZE)
    return _page(request, caller, listed, name.strip())


@router.post("/accounts")
def open_account(
    request: Request, form: CheckedForm, caller: Viewer, accounts: Accounts, directory: Directory
) -> Response:
    """The operator opens any existing account by its id."""
    require_operator(caller)
    try:
        account_id = UUID(str(form.get("account_id") or "").strip())
    except ValueError:
        return _page(request, caller, directory.page(limit=PAGE_SIZE), "", 422, malformed=True)
    require_account_access(caller, account_id, accounts)
    return RedirectResponse(f"{MOUNT}/accounts/{account_id}/", status_code=303)


def _page(request: Request, caller: object, listed: AccountPage, name: str, status: int = 200,
          malformed: bool = False) -> Response:  # fmt: skip
    rows = [_row(a) for a in listed.accounts]
    after = listed.next_after and f"{listed.next_after[0].isoformat()}|{listed.next_after[1]}"
    return page(
        request, "accounts.html", status=status, caller=caller, rows=rows, name=name,
        after=after, malformed=malformed, threshold=LOW_BALANCE_THRESHOLD,
        here=f"{MOUNT}/accounts",
    )  # fmt: skip


def _row(a: AccountListing) -> dict[str, object]:
    return {
        "account_id": a.account_id, "name": a.name, "products": a.products,
        "available": a.available, "locked": a.locked, "purchased": a.purchased_total,
        "opened_at": beijing(a.opened_at).strftime("%Y-%m-%d %H:%M"),
        "low": a.available < LOW_BALANCE_THRESHOLD,
    }  # fmt: skip


def _keyset(after: str) -> tuple[datetime, str] | None:
    """The next page's start as the previous page wrote it (``time|account_id``); a
    malformed one starts from the first page."""
    at, _, account_id = after.partition("|")
    try:
        return datetime.fromisoformat(at), str(UUID(account_id))
    except ValueError:
        return None

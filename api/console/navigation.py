"""The console's entry, the language switch and the operator's choice of account."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from ..auth import require_account_access, require_operator
from ..services import Accounts
from .access import CheckedForm, Viewer
from .i18n import LANGUAGES
from .rendering import MOUNT, page
from .session import set_language

router = APIRouter()


@router.get("/")
def home(caller: Viewer) -> Response:
    """An account goes to its overview; the operator picks an account first."""
    if caller.account_id is not None:
        return RedirectResponse(f"{MOUNT}/accounts/{caller.account_id}/", status_code=303)
    return RedirectResponse(f"{MOUNT}/accounts", status_code=303)


@router.post("/language")
def choose_language(request: Request, form: CheckedForm) -> Response:
    """Remember the chosen language in the session and go back to the page it was set on."""
    language = str(form.get("lang") or "")
    if language in LANGUAGES:
        set_language(request, language)
    back = str(form.get("next") or "")
    inside = back.startswith(f"{MOUNT}/") and not back.startswith("//") and "\\" not in back
    return RedirectResponse(back if inside else f"{MOUNT}/", status_code=303)


@router.get("/accounts")
def choose_account(request: Request, caller: Viewer) -> Response:
    require_operator(caller)
    return page(request, "choose_account.html", caller=caller)


@router.post("/accounts")
def switch_account(
    request: Request, form: CheckedForm, caller: Viewer, accounts: Accounts
) -> Response:
    """The operator switches to any existing account (the API's rule: 404 otherwise)."""
    require_operator(caller)
    try:
        account_id = UUID(str(form.get("account_id") or "").strip())
    except ValueError:
        return page(request, "choose_account.html", status=422, caller=caller, malformed=True)
    require_account_access(caller, account_id, accounts)
    return RedirectResponse(f"{MOUNT}/accounts/{account_id}/", status_code=303)

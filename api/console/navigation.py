"""The console's entry and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from .access import CheckedForm, Viewer
from .i18n import LANGUAGES
from .rendering import MOUNT
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

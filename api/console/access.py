"""Who may see a console page, and the CSRF check every form post passes first."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from starlette.datastructures import FormData

from ..auth import Principal, require_account_access
from ..body_limit import UPLOAD_LIMIT
from ..services import Accounts
from .config import ConsoleConfig
from .session import csrf_matches, signed_in

CSRF_FIELD = "csrf_token"


class SignInNeeded(Exception):
    """No live session: the page answers with the sign-in page's address."""


class CsrfRefused(Exception):
    """A form post whose CSRF token is missing or not this session's."""


def console_config(request: Request) -> ConsoleConfig:
    found: ConsoleConfig = request.app.state.console_config
    return found


async def viewer(request: Request) -> Principal:
    """The signed-in principal (operator or account); else the sign-in page."""
    found = signed_in(request, console_config(request).session_seconds)
    if found is None:
        raise SignInNeeded
    return found


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token is this session's; nothing runs otherwise."""
    form = await request.form(max_part_size=UPLOAD_LIMIT)  # a send's file, carried as base64
    if not csrf_matches(request, form.get(CSRF_FIELD)):
        raise CsrfRefused
    return form


Viewer = Annotated[Principal, Depends(viewer)]
CheckedForm = Annotated[FormData, Depends(checked_form)]


def account_viewer(account_id: UUID, caller: Viewer, accounts: Accounts) -> Principal:
    """The viewer, once allowed to see ``account_id``: the API's rule (another account's
    pages are not found, 404, as in the API)."""
    require_account_access(caller, account_id, accounts)
    return caller


AccountViewer = Annotated[Principal, Depends(account_viewer)]

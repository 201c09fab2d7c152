"""Signing in with an account's API key or the operator token, and signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from ..auth import principal_of_token
from ..services import ApiServices, services
from .access import CheckedForm
from .rendering import MOUNT, page
from .session import sign_in, sign_out

router = APIRouter()


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    return page(request, "sign_in.html")


@router.post("/sign-in")
def sign_in_post(
    request: Request, form: CheckedForm, c: Annotated[ApiServices, Depends(services)]
) -> Response:
    """The bearer check of the API; the carrier's token is not a console user."""
    token = str(form.get("token") or "").strip()
    found = principal_of_token(token, c) if token else None
    if found is None or found.kind == "carrier":
        return page(request, "sign_in.html", status=401, refused=True)
    sign_in(request, found)
    return RedirectResponse(f"{MOUNT}/", status_code=303)


@router.post("/sign-out")
def sign_out_post(request: Request, _: CheckedForm) -> Response:
    sign_out(request)
    return RedirectResponse(f"{MOUNT}/sign-in", status_code=303)

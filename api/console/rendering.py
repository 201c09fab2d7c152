"""Pages rendered from the console's Jinja2 templates, in the visitor's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from .i18n import LANGUAGES, chosen_language, translator
from .session import LANGUAGE, csrf_token

MOUNT = "/console"  # where api/app.py mounts the console
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def language_of(request: Request) -> str:
    return chosen_language(
        request.session.get(LANGUAGE), request.headers.get("accept-language", "")
    )


def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """``template`` with what every page shows: the language, its switch and the CSRF token
    every form carries. ``here``: the page's own address, where the language switch comes
    back to (a page answering a form post names its GET address, else the console's start)."""
    language = language_of(request)
    here = context.pop("here", None) or (
        request.url.path if request.method == "GET" else f"{MOUNT}/"
    )
    common = {
        "_": translator(language),
        "lang": language,
        "languages": LANGUAGES,
        "csrf_token": csrf_token(request),
        "base": MOUNT,
        "here": here,
    }
    return TEMPLATES.TemplateResponse(request, template, common | context, status_code=status)

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
    every form carries."""
    language = language_of(request)
    common = {
        "_": translator(language),
        "lang": language,
        "languages": LANGUAGES,
        "csrf_token": csrf_token(request),
        "base": MOUNT,
        "here": request.url.path,
    }
    return TEMPLATES.TemplateResponse(request, template, common | context, status_code=status)

"""The console's two languages: zh-CN (the default) and English, from Babel catalogues.

Messages are written in English in the templates (``_("...")``); ``i18n/zh_CN`` holds their
Chinese. The ``.po`` file is compiled in memory when the console starts (``read_po`` then
``write_mo``): no build step, and no compiled binary in git that could drift from its
source. The domain's refusals carry their own Chinese (``message_zh``), shown as is.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

CATALOGUES = Path(__file__).parent / "i18n"
DOMAIN = "console"
CHINESE = "zh-CN"
ENGLISH = "en"
LANGUAGES = (CHINESE, ENGLISH)  # the first is the default


def catalogue_path(language: str = CHINESE) -> Path:
    return CATALOGUES / language.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """``language``'s translations (English: the messages as written)."""
    if language == ENGLISH:
        return gettext.NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language.replace("-", "_"))
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translator(language: str) -> Callable[[str], str]:
    return translations(language).gettext


def chosen_language(stored: object, accept_language: str) -> str:
    """The language the visitor chose (kept in the session), else the first of
    ``Accept-Language`` that the console speaks, else Chinese."""
    if isinstance(stored, str) and stored in LANGUAGES:
        return stored
    for tag in _preferred(accept_language):
        if tag.startswith("zh"):
            return CHINESE
        if tag.startswith("en"):
            return ENGLISH
    return CHINESE


def _preferred(accept_language: str) -> list[str]:
    """The header's language tags, most preferred first (q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag.strip().lower()))
    return [tag for _, _, tag in sorted(weighted)]

"""Every message of the console has both languages: its English text and its Chinese."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from smsplat.api.console import i18n

CONSOLE = Path(i18n.__file__).parent
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def used_messages() -> set[str]:
    found = {message for _, _, message, _, _ in extract_from_dir(CONSOLE, METHODS)}
    return {m for m in found if isinstance(m, str)}


def chinese() -> dict[str, tuple[str, bool]]:
    with i18n.catalogue_path().open("rb") as po:
        catalogue = read_po(po)
    return {str(m.id): (str(m.string), m.fuzzy) for m in catalogue if m.id}


def test_every_message_in_the_templates_has_its_chinese() -> None:
    used, translated = used_messages(), chinese()
    assert len(used) > 30  # the extraction did find the templates' messages
    missing = sorted(m for m in used if not translated.get(m, ("", False))[0])
    assert not missing, f"no Chinese for: {missing}"
    fuzzy = sorted(m for m, (_, is_fuzzy) in translated.items() if is_fuzzy)
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy}"


def test_the_catalogue_holds_no_message_the_console_does_not_use() -> None:
    stale = sorted(set(chinese()) - used_messages())
    assert not stale, f"stale messages: {stale}"


def test_placeholders_survive_translation() -> None:
    for english, (zh, _) in chinese().items():
        for name in ("%(units)s", "%(available)s", "%(threshold)s", "%(at)s"):
            assert (name in english) == (name in zh), english


def test_the_served_chinese_is_the_catalogues() -> None:
    translate = i18n.translator(i18n.CHINESE)
    for english, (zh, _) in chinese().items():
        assert translate(english) == zh
    assert i18n.translator(i18n.ENGLISH)("Overview") == "Overview"


def test_the_language_is_the_choice_then_accept_language_then_chinese() -> None:
    assert i18n.chosen_language("en", "zh-CN") == "en"
    assert i18n.chosen_language(None, "en-US,en;q=0.9") == "en"
    assert i18n.chosen_language(None, "fr, en;q=0.3, zh;q=0.8") == "zh-CN"
    assert i18n.chosen_language(None, "fr") == "zh-CN"
    assert i18n.chosen_language(None, "en;q=0, zh;q=bad") == "zh-CN"
    assert i18n.chosen_language("xx", "") == "zh-CN"

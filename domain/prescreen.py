"""The automatic pre-screen of mass templates (T10).

Clear cases (a barred industry, a contact-diversion phrase, no clear subject) are refused at
once with the matched reason; words that are often, but not always, a barred industry are
flagged for the reviewer; everything else waits for a person. The words live in
``data/prescreen.toml``, so they are maintained as data.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .template_text import PLACEHOLDER

SEPARATORS = re.compile(r"[\s.\-_*·|/\\~,，。!！?？:：;；、]+")
ASCII_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Reason:
    """Why a template was refused or flagged: ``code`` is ``forbidden_content``."""

    code: str
    category: str
    message: str
    message_zh: str
    matched: str

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "category": self.category,
            "message": self.message,
            "message_zh": self.message_zh,
            "matched": self.matched,
        }


@dataclass(frozen=True)
class Verdict:
    refusals: tuple[Reason, ...]
    flags: tuple[Reason, ...]

    @property
    def refused(self) -> bool:
        return bool(self.refusals)


@dataclass(frozen=True)
class _Category:
    name: str
    reason: str
    reason_zh: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class WordList:
    refuse: tuple[_Category, ...]
    flag: tuple[_Category, ...]
    greetings: tuple[str, ...]
    no_subject_reason: str
    no_subject_reason_zh: str

    @classmethod
    def parse(cls, data: dict[str, Any]) -> WordList:
        def categories(items: list[dict[str, Any]]) -> tuple[_Category, ...]:
            return tuple(
                _Category(
                    i["category"], i["reason"], i["reason_zh"], tuple(map(normalise, i["words"]))
                )
                for i in items
            )

        subject = data["no_clear_subject"]
        return cls(
            refuse=categories(data.get("refuse", [])),
            flag=categories(data.get("flag", [])),
            greetings=tuple(normalise(g) for g in subject["greetings"]),
            no_subject_reason=subject["reason"],
            no_subject_reason_zh=subject["reason_zh"],
        )


@cache
def default_word_list() -> WordList:
    text = resources.files(__package__).joinpath("data/prescreen.toml").read_text("utf-8")
    return WordList.parse(tomllib.loads(text))


def normalise(text: str) -> str:
    """Full-width to plain (NFKC), lower case, spaces and dodging separators removed."""
    return SEPARATORS.sub("", unicodedata.normalize("NFKC", text).lower())


@dataclass(frozen=True)
class _Text:
    """A content in the two forms words are matched against."""

    compact: str  # normalise(): for words with Chinese in them, whatever the spacing
    ascii_words: frozenset[str]  # the runs of ASCII letters and digits, for words like "spa"

    @classmethod
    def of(cls, content: str) -> _Text:
        plain = unicodedata.normalize("NFKC", content).lower()
        return cls(normalise(plain), frozenset(ASCII_WORD.findall(plain)))

    def contains(self, word: str) -> bool:
        if ASCII_WORD.fullmatch(word):
            return word in self.ascii_words
        return word in self.compact


def prescreen(content: str, words: WordList | None = None, signature: str = "") -> Verdict:
    """Judge a mass template (T10): its content, and its signature for barred words too."""
    words = words or default_word_list()
    text = _Text.of(f"{signature} {PLACEHOLDER.sub(' ', content)}")
    refusals = [r for c in words.refuse if (r := _match(c, text)) is not None]
    flags = [r for c in words.flag if (r := _match(c, text)) is not None]
    if _has_no_clear_subject(content, words):
        refusals.append(
            Reason(
                "forbidden_content",
                "no_clear_subject",
                words.no_subject_reason,
                words.no_subject_reason_zh,
                content,
            )
        )
    return Verdict(tuple(refusals), tuple(flags))


def _match(category: _Category, text: _Text) -> Reason | None:
    for word in category.words:
        if word and text.contains(word):
            return Reason(
                "forbidden_content", category.name, category.reason, category.reason_zh, word
            )
    return None


def _has_no_clear_subject(content: str, words: WordList) -> bool:
    """Only a greeting (or nothing) around placeholders: 您好#content#, 亲爱的用户#content#。"""
    if not PLACEHOLDER.search(content):
        return False
    rest = normalise(PLACEHOLDER.sub("", content))
    return rest == "" or rest in words.greetings

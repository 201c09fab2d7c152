"""What a signature and a template's content may contain (T2, T3, T11).

Every problem is reported, not just the first, each in English and Chinese.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .errors import Problems

MAX_SIGNATURE = 8  # T2
MAX_CONTENT = 120  # T3
PLACEHOLDER = re.compile(r"#([A-Za-z][A-Za-z0-9_]{0,29})#")
# T3 Reading: CJK ideographs, letters, digits, spaces and common Chinese/English punctuation.
PUNCTUATION = set("，。！？、：；“”‘’（）,.!?:;-")
SIGNATURE_BRACKETS = set("【】")  # T11: reserved for the one signature
SQUARE_BRACKETS = set("[]")  # T3: reserved too (carriers read them as a signature)


def is_cjk(char: str) -> bool:
    return "CJK UNIFIED IDEOGRAPH" in unicodedata.name(char, "")


FULL_WIDTH = range(0xFF01, 0xFF5F)  # Ａ-Ｚ, ０-９ …: the same letters and digits, wider


def is_plain_char(char: str) -> bool:
    """Letters and digits (their full-width forms too) and CJK ideographs; not ①, ² or 𝐀."""
    plain = unicodedata.normalize("NFKC", char) if ord(char) in FULL_WIDTH else char
    return is_cjk(char) or (plain.isascii() and plain.isalnum())


def is_signature_bracket(char: str) -> bool:
    """【 and 】, and the forms that display as them (︻ ︼)."""
    return unicodedata.normalize("NFKC", char) in SIGNATURE_BRACKETS


def clean_signature(signature: str) -> str:
    """A signature typed with its brackets (``【花店】``) means the same as ``花店``."""
    text = signature.strip()
    if text.startswith("【") and text.endswith("】"):
        text = text[1:-1].strip()
    return text


def check_signature(signature: object, problems: Problems) -> str:
    """T2: 1–8 characters, letters, digits and Chinese only; returns it without brackets."""
    if not isinstance(signature, str) or not clean_signature(signature):
        problems.add(
            "signature",
            "invalid_signature",
            "A signature is required (the company, brand, product or site name).",
            "请填写签名(公司名、品牌名、产品名或网站名)。",
        )
        return ""
    text = clean_signature(signature)
    if len(text) > MAX_SIGNATURE:
        problems.add(
            "signature",
            "invalid_signature",
            f"The signature may have at most {MAX_SIGNATURE} characters; it has {len(text)}.",
            f"签名最多{MAX_SIGNATURE}个字符,当前为{len(text)}个。",
        )
    if any(is_signature_bracket(c) for c in text):
        problems.add(
            "signature",
            "two_signatures",
            "A signature cannot contain 【 or 】: a message may carry only one signature.",
            "签名中不能包含【或】,一条短信只能有一个签名。",
        )
    odd = _distinct(c for c in text if not is_plain_char(c) and not is_signature_bracket(c))
    if odd:
        problems.add(
            "signature",
            "invalid_signature",
            f"The signature may hold only Chinese, letters and digits, not {odd}.",
            f"签名只能包含中文、字母和数字,不能包含{odd}。",
        )
    return text


def check_content(content: object, problems: Problems) -> str:
    """T3 and T11: at most 120 characters, no symbols, no second 【…】."""
    if not isinstance(content, str) or not content.strip():
        problems.add(
            "content",
            "invalid_content",
            "The content is required.",
            "请填写短信内容。",
        )
        return ""
    text = content.strip()
    if len(text) > MAX_CONTENT:
        problems.add(
            "content",
            "invalid_content",
            f"The content may have at most {MAX_CONTENT} characters; it has {len(text)}.",
            f"短信内容最多{MAX_CONTENT}个字符,当前为{len(text)}个。",
        )
    if any(is_signature_bracket(c) for c in text):
        problems.add(
            "content",
            "two_signatures",
            "The content cannot contain 【 or 】: the message would carry a second signature "
            "and never be delivered (T11).",
            "短信内容不能包含【或】,否则会出现两个签名,导致对方收不到短信。",
        )
    if any(c in SQUARE_BRACKETS for c in text):
        problems.add(
            "content",
            "invalid_content",
            "The content cannot contain [ or ]: carriers read them as a signature.",
            "短信内容不能包含[或],运营商会将其视为签名。",
        )
    without_placeholders = PLACEHOLDER.sub("", text)
    if "#" in without_placeholders:
        problems.add(
            "content",
            "invalid_content",
            "A # may only enclose a placeholder name such as #code# (letters, digits, _).",
            "#只能用于变量,例如#code#(字母、数字、下划线)。",
        )
    odd = _distinct(
        c
        for c in without_placeholders
        if not (is_plain_char(c) or c in " \u3000" or c in PUNCTUATION or c == "#")
        and not is_signature_bracket(c)
        and c not in SQUARE_BRACKETS
    )
    if odd:
        problems.add(
            "content",
            "invalid_content",
            f"The content may not contain symbols: {odd}.",
            f"短信内容不允许使用符号:{odd}。",
        )
    return text


def placeholders(content: str) -> list[str]:
    """The placeholder names of a content, in order of first appearance."""
    return list(dict.fromkeys(PLACEHOLDER.findall(content)))


def _distinct(chars: Iterable[str]) -> str:
    """The characters, each once, in order: what an error message shows."""
    return " ".join(dict.fromkeys(chars))

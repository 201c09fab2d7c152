"""Recipient lists (S1, S2): normalised, deduplicated, every refusal with its code."""

from __future__ import annotations

import pytest
from smsplat.domain.errors import InvalidInput
from smsplat.domain.recipients import (
    MAX_RECIPIENTS,
    TooManyRecipients,
    from_list,
    from_text,
)


def test_S1_prefixes_are_accepted_and_duplicates_removed() -> None:
    """S1: +86 and 86 prefixes name the same number, which is kept once."""
    result = from_list(["13800138000", "+8613800138000", "86 138 0013 8000", "13900139000"])
    assert result.accepted == ("13800138000", "13900139000")
    assert result.duplicates == 2
    assert result.rejected == ()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("+852 9123 4567", "not_mainland_mobile"),  # Hong Kong
        ("+853 6612 3456", "not_mainland_mobile"),  # Macau
        ("+886 912 345 678", "not_mainland_mobile"),  # Taiwan
        ("+1 202 555 0123", "not_mainland_mobile"),  # international
        ("1380013800a", "invalid_phone"),  # letters
        ("138001380001", "invalid_phone"),  # 12 digits
        ("010-12345678", "not_mainland_mobile"),  # a landline is no mobile
    ],
)
def test_S1_each_refused_input_comes_back_with_its_code(text: str, code: str) -> None:
    """S1: refused inputs are reported one by one, with their own code and position."""
    result = from_list(["13800138000", text])
    assert result.accepted == ("13800138000",)
    (rejected,) = result.rejected
    assert (rejected.input, rejected.code, rejected.position) == (text.strip(), code, 2)
    assert rejected.reason


def test_S2_typed_numbers_one_per_line_with_line_numbers() -> None:
    """S2: one number per line; blank lines are skipped; positions are line numbers."""
    result = from_text("13800138000\r\n\n  abc  \n13900139000\n")
    assert result.accepted == ("13800138000", "13900139000")
    assert [(r.input, r.position) for r in result.rejected] == [("abc", 3)]


def test_S2_ten_thousand_numbers_are_accepted() -> None:
    numbers = [f"138{n:08d}" for n in range(MAX_RECIPIENTS)]
    assert len(from_text("\n".join(numbers)).accepted) == MAX_RECIPIENTS


def test_S2_ten_thousand_and_one_lines_are_refused_whole() -> None:
    """S2: more than 10,000 numbers refuses the whole list (too_many_recipients)."""
    numbers = [f"138{n:08d}" for n in range(MAX_RECIPIENTS + 1)]
    with pytest.raises(TooManyRecipients) as refused:
        from_text("\n".join(numbers))
    assert refused.value.code == "too_many_recipients"


@pytest.mark.parametrize("given", [[], ["", "   "]])
def test_S2_an_empty_list_is_refused(given: list[str]) -> None:
    with pytest.raises(InvalidInput):
        from_list(given)


def test_S1_a_list_of_only_refused_numbers_keeps_every_refusal() -> None:
    result = from_list(["+85291234567", "abc"])
    assert result.accepted == ()
    assert [r.code for r in result.rejected] == ["not_mainland_mobile", "invalid_phone"]

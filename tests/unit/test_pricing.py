"""Rendering and units (Q6): the recipient's text, signature and filled placeholders included."""

from __future__ import annotations

import pytest
from smsplat.domain.errors import DomainError
from smsplat.domain.pricing import MAX_RENDERED_LENGTH, render, units_for


def test_Q6_sixty_five_characters_cost_one_unit_sixty_six_cost_two() -> None:
    assert units_for("字" * 65) == 1
    assert units_for("字" * 66) == 2
    assert units_for("a" * 65) == 1  # Chinese, letters and digits count alike


def test_Q6_the_signature_and_its_brackets_count() -> None:
    """Q6: 61 characters of content + 【花店】 (4) = 65 → 1 unit; one more → 2 units."""
    assert render("花店", "字" * 61, {}).units == 1
    assert render("花店", "字" * 62, {}).units == 2
    assert render("花店", "字" * 61, {}).text == "【花店】" + "字" * 61


def test_Q6_filled_placeholders_count_at_their_filled_length() -> None:
    content = "验证码#code#" + "字" * 55  # 【花店】 4 + 验证码 3 + 55 = 62 without the code
    assert render("花店", content, {"code": "123"}).units == 1  # 65
    assert render("花店", content, {"code": "1234"}).units == 2  # 66


def test_missing_and_unknown_variables_are_each_listed() -> None:
    with pytest.raises(DomainError) as refused:
        render("花店", "#name#您好，验证码#code#", {"name": "张三", "extra": "x"})
    codes = {(p.field, p.code) for p in refused.value.problems}
    assert codes == {
        ("variables.code", "missing_variable"),
        ("variables.extra", "unknown_variable"),
    }
    assert refused.value.code == "missing_variable"


@pytest.mark.parametrize(
    ("value", "code"),
    [("【别家】", "two_signatures"), ("x" * 31, "invalid_variable"), (["a"], "invalid_variable")],
)
def test_T11_and_bad_variable_values_are_refused(value: object, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        render("花店", "#name#您好", {"name": value})
    assert refused.value.problems[0].code == code


def test_a_message_longer_than_two_units_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        render("花店", "字" * 100 + "#a#", {"a": "x" * 30})
    assert refused.value.code == "message_too_long"
    assert len("【花店】" + "字" * 100 + "x" * 30) > MAX_RENDERED_LENGTH


def test_numbers_are_accepted_as_variable_values() -> None:
    assert render("花店", "验证码#code#", {"code": 123456}).text == "【花店】验证码123456"

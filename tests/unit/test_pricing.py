"""Rendering and units (Q6): the recipient's text, signature and filled placeholders included."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from smsplat.domain.errors import DomainError
from smsplat.domain.pricing import (
    MAX_RENDERED_LENGTH,
    fill_placeholders,
    render,
    render_each,
    units_for,
)


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


# -- per-recipient variables (Q6 per message) ---------------------------------------------------


@given(
    names=st.lists(
        st.one_of(st.none(), st.text(alphabet="王李欧阳慧明华ab", min_size=1, max_size=30)),
        min_size=1,
        max_size=12,
    ),
    marketing=st.booleans(),
)
def test_Q6_each_recipients_message_is_the_form_filled_and_priced_alone(
    names: list[str | None], marketing: bool
) -> None:
    """What a recipient gets is exactly what rendering its own variables over the shared
    ones gives, and costs what that text costs; one that cannot be made is refused alone."""
    content = "尊敬的#name#,本店会员日全场九折,新品已到店,凭本短信到店另有小礼品相送。"
    personal = [{"name": n} if n is not None else {} for n in names]
    result = render_each("花店", content, {"name": "会员"}, personal, marketing)
    refused = {index for index, _, _ in result.refused}
    for index, mine in enumerate(personal):
        expected = render("花店", content, {"name": "会员", **mine}, marketing)
        if index in refused:
            continue
        assert fill_placeholders(result.form, result.values[index]) == expected.text
        assert result.units[index] == expected.units


def test_Q6_a_recipient_without_a_needed_variable_is_refused_alone() -> None:
    result = render_each("花店", "您好#name#,您的订单#order#已发货。", {"order": "A1"},
                         [{"name": "王"}, {}])  # fmt: skip
    assert [(i, code) for i, code, _ in result.refused] == [(1, "missing_variable")]
    assert result.form == "【花店】您好#name#,您的订单A1已发货。"
    assert result.values[0] == {"name": "王"}

"""What a signature and a template's content may contain: T2, T3, T11 (no I/O).

Drives ``draft_template`` (what the API calls) and the checks of ``template_text`` directly.
The expected characters and limits are written out here, independently of the source.
"""

from __future__ import annotations

import pytest
from smsplat.domain.errors import FieldProblem, InvalidInput
from smsplat.domain.templates import TemplateDraft, draft_template

SIGNATURE = "花店"
CONTENT = "会员日全场八折,欢迎光临。"


def mass(signature: object = SIGNATURE, content: object = CONTENT) -> TemplateDraft:
    return draft_template("mass", "marketing", None, signature, content)


def refusal(signature: object = SIGNATURE, content: object = CONTENT) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        mass(signature, content)
    return refused.value


def codes(error: InvalidInput, field: str | None = None) -> list[str]:
    return [p.code for p in error.problems if field is None or p.field == field]


def assert_only(error: InvalidInput, field: str, code: str) -> None:
    """Exactly one problem, on ``field`` with ``code``, also the top-level code."""
    assert [(p.field, p.code) for p in error.problems] == [(field, code)]
    assert error.code == code
    assert_chinese(error.problems)


def assert_chinese(problems: list[FieldProblem]) -> None:
    for problem in problems:
        assert problem.message, problem
        assert problem.message_zh, problem
        assert any("\u4e00" <= c <= "\u9fff" for c in problem.message_zh), problem


# -- T2: the signature -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    ["花", "花店花店花店花店", "ABCDEFGH", "Shop2026", "浮云Fu9", "１２３ＡＢＣ花店"],
    ids=["1-char", "8-chinese", "8-letters", "letters-digits", "mixed", "full-width"],
)
def test_T2_signature_of_1_to_8_chinese_letters_or_digits_is_accepted(signature: str) -> None:
    assert mass(signature=signature).signature == signature


@pytest.mark.parametrize(
    "signature",
    ["花店花店花店花店花", "ABCDEFGHI", "花店ABCD123", "１２３４５６７８９"],
    ids=["9-chinese", "9-letters", "9-mixed", "9-full-width"],
)
def test_T2_signature_of_9_characters_is_refused_chinese_and_letters_counting_alike(
    signature: str,
) -> None:
    error = refusal(signature=signature)
    assert_only(error, "signature", "invalid_signature")
    assert "8" in (error.problems[0].message_zh or "")


@pytest.mark.parametrize(
    "signature",
    [
        "花 店",
        "花店!",
        "花店,",
        "花店。",
        "花店😀",
        "<b>花店",
        "花店&Co",
        "花-店",
        "花_店",
        "#花店#",
    ],
)
def test_T2_signature_with_a_space_punctuation_emoji_or_markup_is_refused(signature: str) -> None:
    assert_only(refusal(signature=signature), "signature", "invalid_signature")


def test_T2_signature_typed_with_its_brackets_means_the_name_inside() -> None:
    assert mass(signature="【花店】").signature == "花店"
    assert mass(signature=" 【花店花店花店花店】 ").signature == "花店花店花店花店"


@pytest.mark.parametrize("signature", ["花【店】", "【花】店】", "花店】", "【花店", "花】【店"])
def test_T2_T11_brackets_inside_a_signature_are_refused_as_two_signatures(signature: str) -> None:
    error = refusal(signature=signature)
    assert "two_signatures" in codes(error, "signature")
    assert codes(error, "content") == []
    assert_chinese(error.problems)


@pytest.mark.parametrize("signature", ["", "   ", "【】", None, 123, ["花店"]])
def test_T2_signature_missing_empty_or_not_text_is_refused(signature: object) -> None:
    assert_only(refusal(signature=signature), "signature", "invalid_signature")


# -- T3: the content ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    ["好" * 120, "a" * 120, "7" * 120, ("好a7" * 40)],
    ids=["chinese", "letters", "digits", "mixed"],
)
def test_T3_content_of_120_characters_is_accepted(content: str) -> None:
    assert mass(content=content).content == content


@pytest.mark.parametrize(
    "content",
    ["好" * 121, "a" * 121, "7" * 121, ("好a7" * 40) + "x"],
    ids=["chinese", "letters", "digits", "mixed"],
)
def test_T3_content_of_121_characters_is_refused_whatever_the_characters(content: str) -> None:
    error = refusal(content=content)
    assert_only(error, "content", "invalid_content")
    message_zh = error.problems[0].message_zh or ""
    assert "120" in message_zh and "121" in message_zh


def test_T3_placeholders_count_towards_the_120_characters() -> None:
    assert mass(content="好" * 114 + "#code#").content.endswith("#code#")
    assert_only(refusal(content="好" * 115 + "#code#"), "content", "invalid_content")


@pytest.mark.parametrize("mark", [*"，。！？、：；“”‘’（）,.!?:;-", " "])
def test_T3_each_allowed_punctuation_mark_is_accepted(mark: str) -> None:
    content = f"会员日{mark}全场八折"
    assert mass(content=content).content == content


def test_T3_allowed_punctuation_all_together_is_accepted() -> None:
    content = "您好,会员日:全场八折!欢迎光临。还有问题?请来电;详见（门店）“公告”‘通知’、满-减"
    assert mass(content=content).content == content


@pytest.mark.parametrize(
    "content",
    ["尊敬的#name#,您的验证码为#code#。", "#name#", "#a# #b_2# #Code9#", "您好#userName#,欢迎。"],
)
def test_T3_placeholders_are_accepted(content: str) -> None:
    assert mass(content=content).content == content


@pytest.mark.parametrize(
    "content",
    ["会员日#全场八折", "#1#号店开业", "满100减20#", "#name#name#", "##", "#姓名#您好"],
    ids=["stray", "digit-name", "trailing", "odd-count", "empty-name", "chinese-name"],
)
def test_T3_a_hash_that_is_not_a_placeholder_is_refused(content: str) -> None:
    error = refusal(content=content)
    assert error.code == "invalid_content"
    assert set(codes(error)) == {"invalid_content"}
    assert_chinese(error.problems)


@pytest.mark.parametrize(
    "content",
    [
        "会员日😀全场八折",
        "会员日❤️全场八折",
        "<script>alert(1)</script>",
        "会员日(全场八折)",
        "会员日[全场八折]",
        "会员日<b>八折</b>",
        "满100元打8折,仅需$9.9",
        "全场20%折扣",
        "会员日*全场八折",
        "会员日&全场八折",
        "会员日@全场八折",
        "会员日~全场八折",
        '会员日"全场"八折',
        "会员日'全场'八折",
        "会员日/全场八折",
        "会员日★全场八折",
        "会员日《八折》",
        "会员日\t全场八折",
        "会员日\n全场八折",
    ],
)
def test_T3_emoji_markup_and_other_symbols_are_refused(content: str) -> None:
    assert_only(refusal(content=content), "content", "invalid_content")


def test_T3_script_markup_lists_each_offending_symbol() -> None:
    (problem,) = refusal(content="<script>alert(1)</script>").problems
    for symbol in "<>()/":
        assert symbol in problem.message and symbol in (problem.message_zh or "")


def test_T3_ascii_parentheses_are_refused_but_full_width_ones_accepted() -> None:
    assert mass(content="详见（门店公告）").content == "详见（门店公告）"
    assert_only(refusal(content="详见(门店公告)"), "content", "invalid_content")


@pytest.mark.parametrize("content", ["ＶＩＰ会员日全场８折", "ｖｉｐ１２３", "ＡＢＣ，１２３。"])
def test_T3_full_width_letters_and_digits_are_accepted(content: str) -> None:
    assert mass(content=content).content == content


@pytest.mark.parametrize("content", ["", "   ", None, 42, ["会员日"]])
def test_T3_content_missing_empty_or_not_text_is_refused(content: object) -> None:
    assert_only(refusal(content=content), "content", "invalid_content")


def test_T3_surrounding_spaces_are_trimmed_and_not_counted() -> None:
    assert mass(content="  " + "好" * 120 + "  ").content == "好" * 120


# -- T11: no second signature in the content ---------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "【花店】会员日全场八折",
        "会员日全场八折【花店】",
        "会员日【全场】八折",
        "会员日】八折",
        "【会员日",
    ],
)
def test_T11_a_signature_bracket_anywhere_in_content_is_refused_as_two_signatures(
    content: str,
) -> None:
    error = refusal(content=content)
    assert_only(error, "content", "two_signatures")
    assert "【" in (error.problems[0].message_zh or "")


def test_T11_two_signatures_is_listed_even_when_the_content_is_also_too_long() -> None:
    error = refusal(content="【x】" + "好" * 130)
    assert sorted(codes(error, "content")) == ["invalid_content", "two_signatures"]


# -- T2 + T3 + T11: every problem listed, top code the first one's ----------------------------


def test_T2_T3_T11_every_problem_is_listed_each_in_chinese() -> None:
    """A 9-char signature with an emoji, content with 【x】 and 130 characters: four problems."""
    error = refusal(signature="花店花店花店花店😀", content="【x】" + "好" * 127)
    problems = [(p.field, p.code) for p in error.problems]
    assert sorted(problems) == sorted(
        [
            ("signature", "invalid_signature"),  # 9 characters
            ("signature", "invalid_signature"),  # the emoji
            ("content", "invalid_content"),  # 130 characters
            ("content", "two_signatures"),  # 【x】
        ]
    )
    assert error.code == error.problems[0].code == "invalid_signature"
    assert_chinese(error.problems)
    zh = " ".join(p.message_zh or "" for p in error.problems)
    assert "9" in zh and "130" in zh and "😀" in zh


def test_T3_T11_top_level_code_is_the_first_problems_code() -> None:
    only_content = refusal(content="【x】会员日😀")
    assert only_content.code == only_content.problems[0].code
    assert {p.field for p in only_content.problems} == {"content"}
    assert set(codes(only_content)) == {"two_signatures", "invalid_content"}


def test_T2_T3_a_valid_draft_keeps_signature_and_content() -> None:
    draft = mass(signature="【浮云Fu9】", content="浮云会员日,全场八折!回T退订")
    assert (draft.signature, draft.content) == ("浮云Fu9", "浮云会员日,全场八折!回T退订")


@pytest.mark.parametrize("symbol", ["①", "²", "𝐀", "㊙"])
def test_T3_lookalike_digits_and_letters_are_symbols(symbol: str) -> None:
    """T3: only letters and digits (and their full-width forms) count as text; ① is a symbol."""
    with pytest.raises(InvalidInput) as refused:
        draft_template("mass", "notice", None, "花店", f"会员日第{symbol}场")
    assert [p.code for p in refused.value.problems] == ["invalid_content"]


@pytest.mark.parametrize("bracket", ["︻", "︼"])
def test_T11_forms_that_display_as_signature_brackets_are_a_second_signature(
    bracket: str,
) -> None:
    """T11: ︻ and ︼ display as 【 】, so they would carry a second signature too."""
    with pytest.raises(InvalidInput) as refused:
        draft_template("mass", "notice", None, "花店", f"{bracket}别家{bracket}会员日")
    assert refused.value.code == "two_signatures"


def test_T3_square_brackets_get_their_own_reason() -> None:
    """T3: [ ] are reserved (carriers read them as a signature) and say so."""
    with pytest.raises(InvalidInput) as refused:
        draft_template("mass", "notice", None, "花店", "会员日[限时]")
    (problem,) = refused.value.problems
    assert problem.code == "invalid_content" and "[" in problem.message

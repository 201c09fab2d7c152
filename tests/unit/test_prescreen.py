"""The automatic pre-screen of mass templates: T10 (no I/O).

The word list is data (``domain/data/prescreen.toml``); the tests iterate over what it holds and
also build a small list of their own, so adding a word needs no new test.
"""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest
from smsplat.domain.prescreen import Reason, Verdict, WordList, default_word_list, prescreen

WORDS = default_word_list()
REFUSED_CASES = [(c.name, w) for c in WORDS.refuse for w in c.words]
FLAGGED_CASES = [(c.name, w) for c in WORDS.flag for w in c.words]

# Categories the original's section 四.4 names, which the list must cover (written out here).
REQUIRED_CATEGORIES = {
    "real_estate",
    "loans_and_finance",
    "immigration_and_study_abroad",
    "adult_and_gambling",
    "politics",
    "restricted_goods",
    "blockchain",
    "contact_diversion",
}


def refusal_categories(verdict: Verdict) -> list[str]:
    return [r.category for r in verdict.refusals]


def assert_reason(reason: Reason) -> None:
    assert reason.code == "forbidden_content"
    assert reason.message and reason.message_zh and reason.matched
    assert any("\u4e00" <= c <= "\u9fff" for c in reason.message_zh)
    assert reason.as_dict() == {
        "code": reason.code,
        "category": reason.category,
        "message": reason.message,
        "message_zh": reason.message_zh,
        "matched": reason.matched,
    }


# -- the list as data ----------------------------------------------------------------------------


def test_T10_the_packaged_word_list_parses_and_covers_the_originals_categories() -> None:
    text = resources.files("smsplat.domain").joinpath("data/prescreen.toml").read_text("utf-8")
    assert WordList.parse(tomllib.loads(text)) == WORDS
    assert {c.name for c in WORDS.refuse} >= REQUIRED_CATEGORIES
    assert len(REFUSED_CASES) >= 50
    assert all(c.words and c.reason and c.reason_zh for c in WORDS.refuse + WORDS.flag)


def test_T10_a_custom_word_list_is_used_instead_of_the_default() -> None:
    """The list is data: a small TOML of its own refuses and flags only its own words."""
    custom = WordList.parse(
        tomllib.loads(
            """
            [[refuse]]
            category = "durian"
            reason = "No durian."
            reason_zh = "不支持榴莲。"
            words = ["榴莲", "Ｄｕｒｉａｎ"]

            [[flag]]
            category = "fruit"
            reason = "Fruit: check."
            reason_zh = "水果,请确认。"
            words = ["苹果"]

            [no_clear_subject]
            reason = "No subject."
            reason_zh = "主题不明确。"
            greetings = ["早上好"]
            """
        )
    )
    durian = prescreen("新鲜榴莲到店,欢迎选购。", custom)
    assert refusal_categories(durian) == ["durian"]
    assert durian.refusals[0].matched == "榴莲"
    assert durian.refusals[0].message_zh == "不支持榴莲。"
    assert refusal_categories(prescreen("Fresh DURIAN today", custom)) == ["durian"]
    apple = prescreen("苹果上市,欢迎选购。", custom)
    assert not apple.refused and [f.category for f in apple.flags] == ["fruit"]
    # The default list's words mean nothing to this one, and its greetings are its own.
    assert not prescreen("楼盘开盘,加微信看房。", custom).refused
    assert refusal_categories(prescreen("早上好#content#", custom)) == ["no_clear_subject"]
    assert not prescreen("您好#content#", custom).refused


def test_T10_a_word_list_without_flags_or_refusals_parses_as_empty() -> None:
    empty = WordList.parse(
        {"no_clear_subject": {"reason": "r", "reason_zh": "理由", "greetings": ["您好"]}}
    )
    assert empty.refuse == () and empty.flag == ()
    verdict = prescreen("楼盘开盘,欢迎看房。", empty)
    assert verdict == Verdict((), ())


# -- refused: every listed word --------------------------------------------------------------


@pytest.mark.parametrize(("category", "word"), REFUSED_CASES)
def test_T10_every_refused_word_is_refused_with_its_reason(category: str, word: str) -> None:
    verdict = prescreen(f"本店会员日推出{word}相关活动,欢迎垂询。")
    assert verdict.refused
    assert category in refusal_categories(verdict)
    reason = next(r for r in verdict.refusals if r.category == category)
    assert_reason(reason)
    assert reason.matched in word or word in reason.matched


@pytest.mark.parametrize(("category", "word"), REFUSED_CASES)
def test_T10_every_refused_word_is_refused_in_upper_case_and_full_width(
    category: str, word: str
) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word.upper())
    assert category in refusal_categories(prescreen(f"会员日{full_width}活动"))


@pytest.mark.parametrize(
    "content",
    [
        "会员日加QQ领券",
        "会员日加 Q Q 领券",
        "会员日加ＱＱ领券",
        "会员日加ｑｑ领券",
        "会员日加-微-信领券",
        "会员日加.微.信领券",
        "会员日加 微 信领券",
        "会员日加\u3000微\u3000信领券",
        "会员日加VX领券",
        "会员日加Vx领券",
        "会员日+微信领券",
        "会员日＋微信领券",
        "会员日加wx领券",
        "会员日加WeChat领券",
        "会员日加扣扣领券",
        "会员日加*微*信领券",
        "会员日加_Q_Q_领券",
    ],
)
def test_T10_contact_diversion_variants_are_refused(content: str) -> None:
    verdict = prescreen(content)
    assert refusal_categories(verdict) == ["contact_diversion"]
    assert_reason(verdict.refusals[0])
    assert "QQ" in verdict.refusals[0].message_zh and "微信" in verdict.refusals[0].message_zh


def test_T10_several_categories_are_each_listed() -> None:
    verdict = prescreen("楼盘贷款,加微信咨询。")
    assert refusal_categories(verdict) == ["real_estate", "loans_and_finance", "contact_diversion"]
    assert [r.matched for r in verdict.refusals] == ["楼盘", "贷款", "加微信"]


# -- no clear subject --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "您好#content#",
        "你好#content#",
        "亲爱的用户,#content#。",
        "亲爱的用户，#content#。",
        "尊敬的会员:#msg#",
        "Hello #x#",
        "HI #name#!",
        "#content#",
        "#a##b#",
        "亲,#content#",
    ],
)
def test_T10_a_greeting_with_only_a_placeholder_has_no_clear_subject(content: str) -> None:
    verdict = prescreen(content)
    assert refusal_categories(verdict) == ["no_clear_subject"]
    reason = verdict.refusals[0]
    assert_reason(reason)
    assert reason.matched == content
    assert "您好#content#" in reason.message_zh


@pytest.mark.parametrize(
    "content",
    [
        "您好#name#,花店会员日全场八折。",
        "亲爱的用户,您的订单#order#已发货。",
        "您好,会员日全场八折。",
        "您好",
    ],
)
def test_T10_a_greeting_with_a_subject_is_not_refused(content: str) -> None:
    assert "no_clear_subject" not in refusal_categories(prescreen(content))


# -- passes, flags ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "花店会员日全场八折,欢迎#name#光临。",
        "尊敬的#name#,您的生日礼券已到账,到店即可使用。",
        "中秋节快乐!本店月饼买二送一,活动截至9月30日。",
        "新品上市:夏季连衣裙全场七折,回T退订。",
    ],
)
def test_T10_a_clear_marketing_text_passes_without_refusal_or_flag(content: str) -> None:
    verdict = prescreen(content)
    assert verdict == Verdict((), ())
    assert not verdict.refused


@pytest.mark.parametrize(
    "content",
    [
        "欢迎参加Q3新品发布会,现场有惊喜。",
        "本店新开space体验区,欢迎光临。",
    ],
    ids=["canjia-Q3", "space"],
)
def test_T10_an_innocent_text_is_not_refused_by_a_word_inside_another_word(content: str) -> None:
    """Only clear cases are refused (T10): a listed word that is merely part of another word
    (参加Q3 is not 加Q, space is not spa) must not refuse the template."""
    assert prescreen(content).refusals == ()


@pytest.mark.parametrize(("category", "word"), FLAGGED_CASES)
def test_T10_every_flag_word_flags_but_does_not_refuse(category: str, word: str) -> None:
    verdict = prescreen(f"本店会员日推出{word}相关活动,欢迎垂询。")
    assert not verdict.refused
    assert [f.category for f in verdict.flags] == [category]
    assert_reason(verdict.flags[0])
    assert verdict.flags[0].matched == word


@pytest.mark.parametrize(
    ("content", "category"),
    [
        ("本校教育开放日,欢迎家长参观。", "education_and_training"),
        ("互动游戏上线,参与即有礼。", "games_and_agency"),
    ],
)
def test_T10_education_and_games_are_flagged_for_the_reviewer(content: str, category: str) -> None:
    verdict = prescreen(content)
    assert verdict.refusals == ()
    assert [f.category for f in verdict.flags] == [category]


def test_T10_a_refusal_and_a_flag_are_both_reported() -> None:
    verdict = prescreen("游戏币贷款,欢迎咨询。")
    assert refusal_categories(verdict) == ["loans_and_finance"]
    assert [f.category for f in verdict.flags] == ["games_and_agency"]


def test_T10_a_barred_industry_in_the_signature_is_refused_too() -> None:
    """T10: a loan company's brand as the signature is as clear a case as in the content."""
    verdict = prescreen("本月会员活动开始啦", signature="贷款之家")
    assert verdict.refused
    assert [r.matched for r in verdict.refusals] == ["贷款"]
    assert not prescreen("本月会员活动开始啦", signature="花店").refused

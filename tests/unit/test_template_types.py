"""Template types and business scenarios: T1, T8 (no I/O)."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from smsplat.domain.errors import InvalidInput, Problems
from smsplat.domain.scenarios import SCENARIO_CONTENT, MassKind, Scenario, TemplateType
from smsplat.domain.template_text import check_content
from smsplat.domain.templates import Template, TemplateStatus, draft_template

BEIJING = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING)  # a Monday, within review hours
SIGNATURE = "花店"
CONTENT = "会员日全场八折,欢迎光临。"

# The four scenarios of the original (注册验证 找回密码 预约通知 表单通知), written out here.
SCENARIOS = ["register", "reset_password", "booking", "form"]


def refusal(
    type_: object, kind: object, scenario: object, content: object = CONTENT
) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        draft_template(type_, kind, scenario, SIGNATURE, content)
    return refused.value


def fields(error: InvalidInput) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in error.problems]


# -- T1: business vs mass ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["marketing", "notice", "custom"])
def test_T1_mass_template_of_each_kind_is_accepted(kind: str) -> None:
    draft = draft_template("mass", kind, None, SIGNATURE, CONTENT)
    assert draft.type is TemplateType.MASS
    assert draft.kind is MassKind(kind)
    assert draft.scenario is None


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_T1_business_template_of_each_scenario_is_accepted(scenario: str) -> None:
    draft = draft_template("business", None, scenario, SIGNATURE, None)
    assert draft.type is TemplateType.BUSINESS
    assert draft.scenario is Scenario(scenario)
    assert draft.kind is None


def test_T1_there_are_exactly_two_types_three_kinds_and_four_scenarios() -> None:
    assert sorted(t.value for t in TemplateType) == ["business", "mass"]
    assert sorted(k.value for k in MassKind) == ["custom", "marketing", "notice"]
    assert sorted(s.value for s in Scenario) == sorted(SCENARIOS)


@pytest.mark.parametrize("kind", [None, "", "promo", "Marketing", 1, ["marketing"]])
def test_T1_mass_template_needs_a_known_kind(kind: object) -> None:
    error = refusal("mass", kind, None)
    assert fields(error) == [("kind", "validation_error")]
    assert error.code == "validation_error"


@pytest.mark.parametrize("scenario", ["", "login", "REGISTER", 2, {"s": "register"}])
def test_T1_a_named_scenario_must_be_a_known_one(scenario: object) -> None:
    error = refusal("business", None, scenario, None)
    assert fields(error)[0] == ("scenario", "validation_error")
    assert error.code == "validation_error"


def test_T1_a_business_template_without_a_scenario_needs_its_own_content() -> None:
    """T1: business covers the account's own notices and codes: without a scenario the
    content is the account's, checked like a mass template's (T3)."""
    error = refusal("business", None, None, None)
    assert fields(error) == [("content", "invalid_content")]


def test_T1_T8_business_template_with_an_unknown_scenario_gets_no_content_problem() -> None:
    """A scenario's content is never typed (T8): a bad scenario is the only problem."""
    error = refusal("business", None, "login", None)
    assert fields(error) == [("scenario", "validation_error")]


def test_T1_mass_template_with_a_scenario_is_refused() -> None:
    error = refusal("mass", "marketing", "register")
    assert fields(error) == [("scenario", "validation_error")]


def test_T1_business_template_with_a_kind_is_refused() -> None:
    error = refusal("business", "marketing", "register", None)
    assert fields(error) == [("kind", "validation_error")]


@pytest.mark.parametrize("type_", [None, "", "sms", "MASS", "marketing", 0, ["mass"]])
def test_T1_unknown_type_is_refused(type_: object) -> None:
    error = refusal(type_, "marketing", None)
    assert ("type", "validation_error") in fields(error)
    assert error.code == "validation_error"


def test_T1_a_type_problem_is_listed_with_the_text_problems() -> None:
    error = refusal("sms", None, None, "【x】")
    assert fields(error) == [("type", "validation_error"), ("content", "two_signatures")]
    assert error.code == "validation_error"


def test_T1_T2_T3_every_listed_problem_has_a_chinese_message() -> None:
    """Every problem of a refused template carries ``message_zh``, the T1 ones too."""
    error = refusal("mass", "promo", "register", "【x】😀")
    assert len(error.problems) == 4
    missing = [(p.field, p.code) for p in error.problems if not p.message_zh]
    assert missing == []


# -- T8: fixed scenario content ----------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_T8_each_scenario_gets_its_fixed_content(scenario: str) -> None:
    fixed = SCENARIO_CONTENT[Scenario(scenario)]
    for given in (None, "", fixed):
        draft = draft_template("business", None, scenario, SIGNATURE, given)
        assert draft.content == fixed


def test_T8_the_four_fixed_contents_are_distinct_and_name_their_purpose() -> None:
    contents = {Scenario(s): SCENARIO_CONTENT[Scenario(s)] for s in SCENARIOS}
    assert len(set(contents.values())) == 4
    assert "注册" in contents[Scenario.REGISTER]
    assert "密码" in contents[Scenario.RESET_PASSWORD]
    assert "预约" in contents[Scenario.BOOKING]
    assert "表单" in contents[Scenario.FORM]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_T8_T3_T11_each_fixed_content_itself_obeys_the_content_rules(scenario: str) -> None:
    problems = Problems()
    fixed = SCENARIO_CONTENT[Scenario(scenario)]
    assert check_content(fixed, problems) == fixed
    assert problems.items == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_T8_a_different_content_is_refused(scenario: str) -> None:
    fixed = SCENARIO_CONTENT[Scenario(scenario)]
    for changed in (fixed + "回T退订", fixed[:-1], "您的验证码为#code#。"):
        error = refusal("business", None, scenario, changed)
        assert fields(error) == [("content", "invalid_content")]
        assert error.code == "invalid_content"
        assert error.problems[0].message_zh


def test_T8_the_signature_of_a_business_template_is_still_checked() -> None:
    with pytest.raises(InvalidInput) as refused:
        draft_template("business", None, "register", "花店花店花店花店花", None)
    assert fields(refused.value) == [("signature", "invalid_signature")]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_T8_T10_business_templates_are_not_prescreened(scenario: str) -> None:
    draft = draft_template("business", None, scenario, SIGNATURE, None)
    template = Template.submit(uuid4(), uuid4(), draft, "account", AT)
    events = template.collect_events()
    assert [type(e) for e in events] == [Template.Submitted]
    assert template.status is TemplateStatus.PENDING_REVIEW
    assert template.reasons == [] and template.flags == []


def test_T8_T10_a_mass_template_is_prescreened_at_submission() -> None:
    """The counterpart of the test above: the PreScreened event is what it looks for."""
    draft = draft_template("mass", "marketing", None, SIGNATURE, CONTENT)
    template = Template.submit(uuid4(), uuid4(), draft, "account", AT)
    events = template.collect_events()
    assert [type(e) for e in events] == [Template.Submitted, Template.PreScreened]
    assert template.status is TemplateStatus.PENDING_REVIEW

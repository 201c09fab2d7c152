"""Templates through the HTTP API on PostgreSQL: submission, checks, pre-screen, edits,
deletion, access and listing (T1–T4, T6–T8, T10, T11)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.e2e.helpers import PROBLEM_JSON, assert_problem, auth
from tests.e2e.template_helpers import (
    CLEAN_CONTENT,
    SCENARIO_TEXT,
    approve,
    approved_template,
    business,
    delete,
    edit,
    get_template,
    list_templates,
    mass,
    post_template,
    reject,
    rejected_template,
    review_queue,
    submit,
)
from tests.support import OPERATOR_TOKEN, Api

# Submitted at the fixture clock's start, Monday 2026-03-02 09:00 Beijing: due 2 hours later.
DUE_AT_START = "2026-03-02T11:00:00+08:00"
DETAIL_FIELDS = {
    "template_id",
    "type",
    "kind",
    "scenario",
    "signature",
    "content",
    "status",
    "reasons",
    "review_due_at",
    "history",
}


@pytest.fixture(params=["api", "sqlite_api"])
def store_api(request: pytest.FixtureRequest) -> Api:
    """The same HTTP API on PostgreSQL and on SQLite: behaviour must not differ."""
    chosen: Api = request.getfixturevalue(request.param)
    return chosen


# -- T1 / T8: what can be submitted ------------------------------------------------------


def test_T1_mass_templates_of_each_kind_go_to_review(api: Api) -> None:
    """T1: mass templates of kind marketing, notice and custom are accepted for review."""
    account_id, key = api.new_account()
    created: dict[str, str] = {}
    for kind in ("marketing", "notice", "custom"):
        r = post_template(api, account_id, key, mass(kind=kind))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["template_id"]
        assert body["status"] == "pending_review"
        assert body["reasons"] == []
        assert body["review_due_at"] == DUE_AT_START
        created[kind] = body["template_id"]
    assert len(set(created.values())) == 3

    for kind, template_id in created.items():
        detail = get_template(api, template_id, key)
        assert detail.keys() >= DETAIL_FIELDS
        assert detail["template_id"] == template_id
        assert (detail["type"], detail["kind"], detail["scenario"]) == ("mass", kind, None)
        assert (detail["signature"], detail["content"]) == ("花店", CLEAN_CONTENT)
        assert detail["status"] == "pending_review"
        assert detail["review_due_at"] == DUE_AT_START
        assert next(h["action"] for h in detail["history"]) == "submitted"

    api.settle()
    listed = {t["template_id"]: t for t in list_templates(api, account_id, key)}
    assert listed.keys() == set(created.values())
    assert {t["kind"] for t in listed.values()} == {"marketing", "notice", "custom"}
    assert all(t["status"] == "pending_review" for t in listed.values())


def test_T8_each_business_scenario_gets_its_fixed_content(api: Api) -> None:
    """T8: the account picks a scenario and a signature; the content is the platform's."""
    account_id, key = api.new_account()
    ids: dict[str, str] = {}
    for scenario, text in SCENARIO_TEXT.items():
        r = post_template(api, account_id, key, business(scenario, signature="【花店】"))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["status"] == "pending_review"
        assert body["review_due_at"] == DUE_AT_START
        assert body["content"] == text
        ids[scenario] = body["template_id"]
        detail = get_template(api, body["template_id"], key)
        assert (detail["type"], detail["kind"], detail["scenario"]) == (
            "business",
            None,
            scenario,
        )
        assert detail["content"] == text
        assert detail["signature"] == "花店"  # typed with its brackets, stored without (T2)

    # Sending the fixed text itself is not a change.
    same = post_template(api, account_id, key, business("form", content=SCENARIO_TEXT["form"]))
    assert same.status_code == 201, same.text
    assert same.json()["content"] == SCENARIO_TEXT["form"]

    api.settle()
    listed = list_templates(api, account_id, key)
    assert len(listed) == 5
    assert {t["scenario"]: t["content"] for t in listed} == SCENARIO_TEXT


@pytest.mark.parametrize("scenario", sorted(SCENARIO_TEXT))
def test_T8_changed_business_content_is_refused_and_nothing_stored(api: Api, scenario: str) -> None:
    """T8: the content of a business scenario is not edited: 422 invalid_content."""
    account_id, key = api.new_account()
    changed = SCENARIO_TEXT[scenario].replace("请", "务必")
    r = post_template(api, account_id, key, business(scenario, content=changed))
    body = assert_problem(r, 422, "invalid_content")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("content", "invalid_content")]
    assert body["errors"][0]["message_zh"]
    api.settle()
    assert list_templates(api, account_id, key) == []
    assert review_queue(api) == []


WRONG_SHAPES: list[tuple[dict[str, Any], str]] = [
    ({"type": "sms", "signature": "花店", "content": CLEAN_CONTENT}, "type"),
    ({"type": None, "signature": "花店", "content": CLEAN_CONTENT}, "type"),
    ({"type": "mass", "signature": "花店", "content": CLEAN_CONTENT}, "kind"),
    ({"type": "mass", "kind": "spam", "signature": "花店", "content": CLEAN_CONTENT}, "kind"),
    ({**mass(), "scenario": "register"}, "scenario"),
    (
        {"type": "business", "signature": "花店", "content": CLEAN_CONTENT, "kind": "promo"},
        "kind",
    ),  # own content: verification or notice
    ({**business(), "kind": "marketing"}, "kind"),
    (business("lottery"), "scenario"),
]


def test_T1_types_kinds_and_scenarios_must_match(api: Api) -> None:
    """T1: type is business or mass; a mass template has a kind; a business one a scenario,
    or its own content with a kind of verification or notice."""
    account_id, key = api.new_account()
    for body, field in WRONG_SHAPES:
        r = post_template(api, account_id, key, body)
        problem = assert_problem(r, 422, "validation_error")
        assert field in [e["field"] for e in problem["errors"]], (body, problem)
    api.settle()
    assert list_templates(api, account_id, key) == []
    assert review_queue(api) == []


# -- T2 / T3 / T11: bad signatures and contents ------------------------------------------

NINE = "一二三四五六七八九"
LONG_CONTENT = "好" * 121

# (body, the code on top, every (field, code) that must be listed)
BAD_TEXTS: list[tuple[str, dict[str, Any], str, list[tuple[str, str]]]] = [
    ("signature_9_chars", mass(signature=NINE), "invalid_signature",
     [("signature", "invalid_signature")]),
    ("empty_signature", mass(signature=""), "invalid_signature",
     [("signature", "invalid_signature")]),
    ("blank_signature", mass(signature="  "), "invalid_signature",
     [("signature", "invalid_signature")]),
    ("signature_with_symbols", mass(signature="花店!"), "invalid_signature",
     [("signature", "invalid_signature")]),
    ("signature_with_brackets", mass(signature="花【店】"), "two_signatures",
     [("signature", "two_signatures")]),
    ("empty_content", mass(content=""), "invalid_content", [("content", "invalid_content")]),
    ("missing_content", {"type": "mass", "kind": "notice", "signature": "花店"},
     "invalid_content", [("content", "invalid_content")]),
    ("content_121_chars", mass(content=LONG_CONTENT), "invalid_content",
     [("content", "invalid_content")]),
    ("emoji", mass(content="春季新品到店😀欢迎光临"), "invalid_content",
     [("content", "invalid_content")]),
    ("script", mass(content="<script>alert(1)</script>"), "invalid_content",
     [("content", "invalid_content")]),
    ("second_signature", mass(content="【别家】春季新品到店,欢迎光临。"), "two_signatures",
     [("content", "two_signatures")]),
    ("square_brackets", mass(content="[别家]春季新品到店"), "invalid_content",
     [("content", "invalid_content")]),
    ("stray_hash", mass(content="会员号#12 请查收"), "invalid_content",
     [("content", "invalid_content")]),
    ("everything_at_once",
     mass(signature="花店!一二三四五六", content="【别家】" + "好" * 120 + "😀"),
     "invalid_signature",
     [("signature", "invalid_signature"), ("signature", "invalid_signature"),
      ("content", "invalid_content"), ("content", "two_signatures"),
      ("content", "invalid_content")]),
    ("business_bad_signature_and_content",
     business("register", signature=NINE + "!", content="改过的内容"),
     "invalid_signature",
     [("signature", "invalid_signature"), ("signature", "invalid_signature"),
      ("content", "invalid_content")]),
]  # fmt: skip


def _prime_queue(api: Api) -> list[dict[str, Any]]:
    """Another account's pending template, so "the queue is unchanged" means something."""
    other_id, other_key = api.new_account(phone="13900139000")
    submit(api, other_id, other_key)
    api.settle()
    queue: list[dict[str, Any]] = review_queue(api)
    assert len(queue) == 1
    return queue


@pytest.mark.parametrize(
    ("body", "code", "problems"),
    [case[1:] for case in BAD_TEXTS],
    ids=[case[0] for case in BAD_TEXTS],
)
def test_T2_T3_T11_bad_text_is_refused_with_every_problem_and_nothing_stored(
    api: Api, body: dict[str, Any], code: str, problems: list[tuple[str, str]]
) -> None:
    """T2 (signature), T3 (content), T11 (no second 【…】): 422, every problem listed, in
    English and Chinese, with the first one's code on top; nothing is stored."""
    queue = _prime_queue(api)
    account_id, key = api.new_account()
    r = post_template(api, account_id, key, body)
    problem = assert_problem(r, 422, code)
    errors = problem["errors"]
    assert sorted((e["field"], e["code"]) for e in errors) == sorted(problems), errors
    for error in errors:
        assert isinstance(error["message"], str) and error["message"], error
        assert isinstance(error.get("message_zh"), str) and error["message_zh"], error
    api.settle()
    assert list_templates(api, account_id, key) == []
    assert review_queue(api) == queue


def test_T2_T3_limits_are_inclusive(api: Api) -> None:
    """T2/T3: an 8-character signature and a 120-character content are fine."""
    account_id, key = api.new_account()
    body = submit(api, account_id, key, mass(signature="一二三四五六七八", content="好" * 120))
    assert body["status"] == "pending_review"
    assert body["signature"] == "一二三四五六七八"
    assert len(body["content"]) == 120


def test_T1_missing_type_is_refused_with_a_listed_problem(api: Api) -> None:
    """T1: a template without a type is 422 validation_error naming the field."""
    queue = _prime_queue(api)
    account_id, key = api.new_account()
    r = post_template(api, account_id, key, {"signature": "花店", "content": CLEAN_CONTENT})
    problem = assert_problem(r, 422, "validation_error")
    assert [e["field"] for e in problem["errors"]] == ["type"]
    api.settle()
    assert list_templates(api, account_id, key) == []
    assert review_queue(api) == queue


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (
            {"signature": NINE, "content": "欢迎😀"},
            [("content", "invalid_content"), ("signature", "invalid_signature"),
             ("type", "validation_error")],
        ),
        (
            {"type": "mass", "kind": "notice", "content": "【别家】欢迎光临"},
            [("content", "two_signatures"), ("signature", "invalid_signature")],
        ),
    ],
    ids=["missing_type", "missing_signature"],
)  # fmt: skip
def test_T2_T3_T11_a_missing_field_does_not_hide_the_other_problems(
    api: Api, body: dict[str, Any], problems: list[tuple[str, str]]
) -> None:
    """Contract ("every problem listed"): a missing type or signature is listed together
    with the bad content, not instead of it; nothing is stored."""
    account_id, key = api.new_account()
    r = post_template(api, account_id, key, body)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert sorted((e["field"], e["code"]) for e in errors) == problems, errors
    api.settle()
    assert list_templates(api, account_id, key) == []


def test_T1_T2_T3_every_listed_problem_has_a_chinese_message(api: Api) -> None:
    """Every problem of a refused template is listed with ``message_zh`` (the accounts'
    own language), type, kind and scenario problems included."""
    account_id, key = api.new_account()
    missing_type = {"signature": "花店", "content": CLEAN_CONTENT}
    without_zh = []
    for body, _ in [*WRONG_SHAPES, (missing_type, "type")]:
        r = post_template(api, account_id, key, body)
        assert r.status_code == 422, r.text
        without_zh += [e for e in r.json()["errors"] if not e.get("message_zh")]
    assert without_zh == []
    api.settle()
    assert list_templates(api, account_id, key) == []


@pytest.mark.parametrize(
    "body",
    [
        {**mass(), "priority": "high"},
        {**business(), "status": "approved"},
        {**mass(), "template_id": str(uuid4())},
    ],
    ids=["priority", "status", "template_id"],
)
def test_T1_unknown_fields_are_refused(api: Api, body: dict[str, Any]) -> None:
    """Unknown fields are 422 validation_error naming the field; nothing is stored."""
    queue = _prime_queue(api)
    account_id, key = api.new_account()
    problem = assert_problem(post_template(api, account_id, key, body), 422, "validation_error")
    extra = (body.keys() - mass().keys() - business().keys()).pop()
    assert extra in [e["field"] for e in problem["errors"]], problem
    api.settle()
    assert list_templates(api, account_id, key) == []
    assert review_queue(api) == queue


def test_T3_a_10_mb_body_is_refused_with_413_and_nothing_stored(api: Api) -> None:
    """A 10 MB request body is 413 payload_too_large and stores nothing."""
    queue = _prime_queue(api)
    account_id, key = api.new_account()
    huge = mass(content="好" * (10 * 1024 * 1024 // 3))
    assert_problem(post_template(api, account_id, key, huge), 413, "payload_too_large")
    api.settle()
    assert list_templates(api, account_id, key) == []
    assert review_queue(api) == queue


# -- T10: the automatic pre-screen -------------------------------------------------------

DIVERSIONS = [
    "新品上市,详情请加QQ123456咨询。",
    "新品上市,详情请加ＱＱ123456咨询。",  # full-width letters
    "新品上市,详情请加 Q Q 123456咨询。",  # spaced
    "新品上市,详情请加.q.q 123456咨询。",  # dotted, lower case
    "新品上市,详情请加qq123456咨询。",
]


def _assert_refused(body: dict[str, Any], category: str, matched: str | None = None) -> None:
    assert body["status"] == "rejected", body
    assert body["review_due_at"] is None, body
    assert body["reasons"], body
    reason = body["reasons"][0]
    assert reason["code"] == "forbidden_content"
    assert reason["category"] == category
    assert reason["message"] and reason["message_zh"]
    assert reason["matched"]
    if matched is not None:
        assert reason["matched"] == matched


def test_T10_contact_diversion_is_refused_at_once_with_the_reason(api: Api) -> None:
    """T10: 加QQ (also full-width, spaced or dotted) comes back 201 rejected, with reasons."""
    account_id, key = api.new_account()
    ids = []
    for content in DIVERSIONS:
        body = submit(api, account_id, key, mass(content=content))
        _assert_refused(body, "contact_diversion", "加qq")
        ids.append(body["template_id"])
        assert get_template(api, body["template_id"], key)["reasons"] == body["reasons"]
    wechat = submit(api, account_id, key, mass(content="扫码不如直接加 微 信,领取优惠。"))
    _assert_refused(wechat, "contact_diversion", "加微信")
    api.settle()
    assert review_queue(api) == []
    listed = list_templates(api, account_id, key)
    assert len(listed) == len(DIVERSIONS) + 1
    assert all(t["status"] == "rejected" and t["reasons"] for t in listed)


def test_T10_loans_are_refused_at_once(api: Api) -> None:
    """T10: a barred industry (贷款) is refused with its reason."""
    account_id, key = api.new_account()
    body = submit(api, account_id, key, mass(content="低息贷款,当天到账,欢迎来电。", kind="notice"))
    _assert_refused(body, "loans_and_finance", "贷款")
    api.settle()
    assert review_queue(api) == []


@pytest.mark.parametrize("content", ["您好#content#", "亲爱的用户,#content#", "#content#"])
def test_T10_a_template_with_no_clear_subject_is_refused(api: Api, content: str) -> None:
    """T10: 您好#content# (a greeting and a placeholder) has no clear subject."""
    account_id, key = api.new_account()
    body = submit(api, account_id, key, mass(content=content, kind="custom"))
    _assert_refused(body, "no_clear_subject")
    api.settle()
    assert review_queue(api) == []


def test_T10_a_clean_mass_template_waits_for_a_person(api: Api) -> None:
    """T10: a clean template is pending_review; one with a doubtful word is too, flagged."""
    account_id, key = api.new_account()
    clean = submit(api, account_id, key, mass(content="您好#name#,您预订的鲜花已送达,请查收。"))
    assert clean["status"] == "pending_review"
    assert clean["reasons"] == [] and clean["flags"] == []
    assert clean["review_due_at"] == DUE_AT_START
    flagged = submit(api, account_id, key, mass(content="本周六学校开放日,欢迎参观课程展示。"))
    assert flagged["status"] == "pending_review"
    assert flagged["reasons"] == []
    assert [f["category"] for f in flagged["flags"]] == ["education_and_training"]
    actions = [h["action"] for h in get_template(api, clean["template_id"], key)["history"]]
    assert actions == ["submitted", "prescreened"]
    api.settle()
    queued = {t["template_id"]: t for t in review_queue(api)}
    assert queued.keys() == {clean["template_id"], flagged["template_id"]}
    assert queued[flagged["template_id"]]["flags"] == flagged["flags"]


def test_T10_business_templates_are_never_prescreened(api: Api) -> None:
    """T10 is for mass templates only: a business template goes to a person unscreened."""
    account_id, key = api.new_account()
    for scenario in SCENARIO_TEXT:
        # A signature full of barred words would not change that.
        body = submit(api, account_id, key, business(scenario, signature="贷款加QQ"))
        assert body["status"] == "pending_review", body
        assert body["reasons"] == [] and body["flags"] == []
        history = get_template(api, body["template_id"], key)["history"]
        assert [h["action"] for h in history] == ["submitted"]
    api.settle()
    assert len(review_queue(api)) == len(SCENARIO_TEXT)


# -- T4: any number of templates ---------------------------------------------------------


def test_T4_an_account_may_have_60_templates_all_listed(api: Api) -> None:
    """T4: no limit on the number of templates; all are listed, page by page too."""
    account_id, key = api.new_account()
    ids = {
        submit(api, account_id, key, mass(content=f"第{i}号通知,门店今日正常营业。"))["template_id"]
        for i in range(60)
    }
    assert len(ids) == 60
    api.settle()
    assert {t["template_id"] for t in list_templates(api, account_id, key)} == ids
    paged: list[str] = []
    for offset in range(0, 80, 25):
        page = list_templates(api, account_id, key, limit=25, offset=offset)
        assert len(page) == min(25, max(0, 60 - offset))
        paged += [t["template_id"] for t in page]
    assert len(paged) == 60 and set(paged) == ids
    assert len(review_queue(api, limit=500)) == 60


# -- T6: edit and resubmit a rejected template -------------------------------------------


def test_T6_a_rejected_template_is_edited_and_resubmitted_three_times(api: Api) -> None:
    """T6: edit after each rejection, any number of times; every reason stays in the history."""
    account_id, key = api.new_account()
    template_id = submit(api, account_id, key)["template_id"]
    contents = [CLEAN_CONTENT]
    signatures = ["花店"]
    reasons = []
    for round_ in range(1, 4):
        reason = f"第{round_}次驳回:请写明门店名称"
        r = reject(api, template_id, reason)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "rejected"
        assert r.json()["reasons"][0]["message"] == reason
        reasons.append(reason)

        signature = f"花店{round_}号"
        content = f"阳光花店第{round_}版:春季新品已到店,会员凭短信享九折。"
        r = edit(api, template_id, key, {"signature": signature, "content": content})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "pending_review"
        assert body["version"] == round_ + 1
        assert body["review_due_at"] == DUE_AT_START
        assert body["reasons"] == []
        assert body["changes"] == {
            "signature": {"before": signatures[-1], "after": signature},
            "content": {"before": contents[-1], "after": content},
        }
        signatures.append(signature)
        contents.append(content)

        detail = get_template(api, template_id, key)
        assert [v["content"] for v in detail["versions"]] == contents
        assert [v["signature"] for v in detail["versions"]] == signatures
        rejected = [h for h in detail["history"] if h["action"] == "rejected"]
        assert [h["reason"] for h in rejected] == reasons

    api.settle()
    [listed] = list_templates(api, account_id, key)
    assert (listed["status"], listed["version"], listed["content"]) == (
        "pending_review",
        4,
        contents[-1],
    )
    assert [t["template_id"] for t in review_queue(api)] == [template_id]


def test_T6_only_a_rejected_template_can_be_edited(api: Api) -> None:
    """T6: editing a pending or an approved template is 409 template_not_editable."""
    account_id, key = api.new_account()
    pending = submit(api, account_id, key)["template_id"]
    approved = approved_template(api, account_id, key)
    new_text = {"signature": "花店", "content": "改过的内容,欢迎光临。"}
    for template_id, status in ((pending, "pending_review"), (approved, "approved")):
        assert_problem(edit(api, template_id, key, new_text), 409, "template_not_editable")
        detail = get_template(api, template_id, key)
        assert (detail["status"], detail["version"], detail["content"]) == (
            status,
            1,
            CLEAN_CONTENT,
        )


def test_T6_an_edit_breaking_the_rules_is_refused_and_changes_nothing(api: Api) -> None:
    """T6 with T2/T3/T11: a bad edit is 422 with every problem; the template stays rejected."""
    account_id, key = api.new_account()
    template_id = rejected_template(api, account_id, key)
    r = edit(api, template_id, key, {"signature": NINE, "content": "【别家】欢迎"})
    problem = assert_problem(r, 422, "invalid_signature")
    assert sorted((e["field"], e["code"]) for e in problem["errors"]) == [
        ("content", "two_signatures"),
        ("signature", "invalid_signature"),
    ]
    detail = get_template(api, template_id, key)
    assert (detail["status"], detail["version"]) == ("rejected", 1)
    api.settle()
    assert review_queue(api) == []


def test_T6_T10_an_edited_template_is_prescreened_again(api: Api) -> None:
    """T6/T10: a pre-screen refusal can be edited; the new text is screened again."""
    account_id, key = api.new_account()
    refused = submit(api, account_id, key, mass(content="详情请加QQ123456咨询。"))
    assert refused["status"] == "rejected"
    template_id = refused["template_id"]
    r = edit(api, template_id, key, {"signature": "花店", "content": "详情请加微信flower咨询。"})
    assert r.status_code == 200, r.text
    _assert_refused(r.json(), "contact_diversion", "加微信")
    assert r.json()["version"] == 2
    r = edit(api, template_id, key, {"signature": "花店", "content": "详情请致电门店咨询。"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["version"], r.json()["reasons"]) == (
        "pending_review",
        3,
        [],
    )
    api.settle()
    assert [t["template_id"] for t in review_queue(api)] == [template_id]


# -- T7: deleting an approved template ---------------------------------------------------


def test_T7_a_deleted_template_is_no_longer_listed(api: Api) -> None:
    """T7: DELETE an approved template: gone from the list, shown as deleted, not usable."""
    account_id, key = api.new_account()
    kept = approved_template(api, account_id, key)
    gone = approved_template(api, account_id, key, mass(content="周末特惠,全场八折。"))
    api.settle()
    assert {t["template_id"] for t in list_templates(api, account_id, key)} == {kept, gone}

    r = delete(api, gone, key)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deleted"
    api.settle()
    assert [t["template_id"] for t in list_templates(api, account_id, key)] == [kept]
    assert [t["template_id"] for t in list_templates(api, account_id, status="approved")] == [kept]
    assert get_template(api, gone, key)["status"] == "deleted"
    assert get_template(api, gone)["status"] == "deleted"
    assert [h["action"] for h in get_template(api, gone)["history"]][-1] == "deleted"

    # Deleted for good: not deleted twice, not approved, not edited.
    assert_problem(delete(api, gone, key), 409, "template_not_approved")
    assert_problem(approve(api, gone), 409, "template_not_pending")
    assert_problem(
        edit(api, gone, key, {"signature": "花店", "content": "周末特惠。"}),
        409,
        "template_not_editable",
    )
    api.settle()
    assert [t["template_id"] for t in list_templates(api, account_id, key)] == [kept]


def test_T7_only_an_approved_template_can_be_deleted(api: Api) -> None:
    """T7: deleting a pending or a rejected template is 409 template_not_approved."""
    account_id, key = api.new_account()
    pending = submit(api, account_id, key)["template_id"]
    rejected = rejected_template(api, account_id, key)
    for template_id, status in ((pending, "pending_review"), (rejected, "rejected")):
        assert_problem(delete(api, template_id, key), 409, "template_not_approved")
        assert get_template(api, template_id, key)["status"] == status
    api.settle()
    assert len(list_templates(api, account_id, key)) == 2


# -- access ------------------------------------------------------------------------------


def test_another_accounts_template_is_404_and_never_shown(api: Api) -> None:
    """T6/T7 access: another account's template is 404 on GET, PUT (T6) and DELETE (T7), never
    403, never its content; the operator sees any."""
    owner_id, owner_key = api.new_account(phone="13800138001")
    other_id, other_key = api.new_account(name="Other", phone="13800138002")
    secret = "阳光花店独家配方,会员专享九折。"
    approved = approved_template(api, owner_id, owner_key, mass(content=secret))
    pending = submit(api, owner_id, owner_key, mass(content=secret))["template_id"]
    rejected = rejected_template(api, owner_id, owner_key)

    for template_id in (approved, pending, rejected):
        responses = [
            api.client.get(f"/v1/templates/{template_id}", headers=auth(other_key)),
            edit(api, template_id, other_key, {"signature": "别家", "content": "别家的内容。"}),
            delete(api, template_id, other_key),
        ]
        for r in responses:
            assert_problem(r, 404, "not_found")
            assert secret not in r.text and CLEAN_CONTENT not in r.text
            assert owner_id not in r.text

    # Nothing changed, and the owner and the operator still see each one.
    for template_id, status in ((approved, "approved"), (pending, "pending_review")):
        assert get_template(api, template_id, owner_key)["status"] == status
        assert get_template(api, template_id)["content"] == secret
    assert get_template(api, rejected)["status"] == "rejected"
    api.settle()
    assert list_templates(api, other_id, other_key) == []
    assert len(list_templates(api, owner_id, owner_key)) == 3

    # Another account's list is not found either: one rule on every path.
    r = api.client.get(f"/v1/accounts/{owner_id}/templates", headers=auth(other_key))
    assert_problem(r, 404, "not_found")
    r = post_template(api, owner_id, other_key, mass())
    assert_problem(r, 404, "not_found")
    api.settle()
    assert len(list_templates(api, owner_id)) == 3


def test_unknown_and_malformed_template_ids(api: Api) -> None:
    """T5/T6/T7: an unknown template id is 404 not_found; a malformed one is 422."""
    _, key = api.new_account()
    text = {"signature": "花店", "content": "欢迎光临。"}
    for template_id, status, code in ((str(uuid4()), 404, "not_found"),
                                      ("not-a-uuid", 422, "validation_error")):  # fmt: skip
        for token in (key, None):
            headers = auth(token) if token else auth()
            r = api.client.get(f"/v1/templates/{template_id}", headers=headers)
            assert_problem(r, status, code)
        assert_problem(edit(api, template_id, key, text), status, code)
        assert_problem(delete(api, template_id, key), status, code)
        assert_problem(approve(api, template_id), status, code)
        assert_problem(reject(api, template_id), status, code)


def test_templates_need_a_valid_token(api: Api) -> None:
    """T1/T4: submitting and listing templates need a valid token (401 otherwise)."""
    account_id, _ = api.new_account()
    r = api.client.post(f"/v1/accounts/{account_id}/templates", json=mass())
    assert_problem(r, 401, "unauthorized")
    r = api.client.get(f"/v1/accounts/{account_id}/templates", headers=auth("nope"))
    assert_problem(r, 401, "unauthorized")
    api.settle()
    assert list_templates(api, account_id) == []


# -- list filter -------------------------------------------------------------------------


def test_the_list_filters_by_status(api: Api) -> None:
    """T4/T5/T7 listing: ?status= pending_review, approved or rejected; anything else is 422."""
    account_id, key = api.new_account()
    pending = submit(api, account_id, key)["template_id"]
    approved = approved_template(api, account_id, key)
    by_reviewer = rejected_template(api, account_id, key)
    by_prescreen = submit(api, account_id, key, mass(content="低息贷款,当天到账。"))["template_id"]
    api.settle()
    expected = {
        "pending_review": {pending},
        "approved": {approved},
        "rejected": {by_reviewer, by_prescreen},
    }
    for status, ids in expected.items():
        for token in (key, OPERATOR_TOKEN):
            listed = list_templates(api, account_id, token, status=status)
            assert {t["template_id"] for t in listed} == ids, status
            assert all(t["status"] == status for t in listed)
    assert len(list_templates(api, account_id, key)) == 4

    for bad in ("bogus", "APPROVED", "deleted"):
        r = api.client.get(
            f"/v1/accounts/{account_id}/templates", params={"status": bad}, headers=auth(key)
        )
        assert_problem(r, 422, "validation_error")


# -- Idempotency-Key ---------------------------------------------------------------------


def test_idempotency_key_on_submit_gives_one_template(api: Api) -> None:
    """T1/T4 with Idempotency-Key: the same key and body give the same template, stored once."""
    account_id, key = api.new_account()
    first = post_template(api, account_id, key, mass(), key="tpl-1")
    assert first.status_code == 201, first.text
    for _ in range(2):
        again = post_template(api, account_id, key, mass(), key="tpl-1")
        assert again.status_code == 201, again.text
        assert again.json()["template_id"] == first.json()["template_id"]
        assert again.headers.get("idempotent-replayed") == "true"
    reused = post_template(api, account_id, key, mass(content="另一条内容,欢迎光临。"), key="tpl-1")
    assert_problem(reused, 422, "idempotency_key_reused")
    assert reused.headers["content-type"].startswith(PROBLEM_JSON)
    api.settle()
    listed = list_templates(api, account_id, key)
    assert [t["template_id"] for t in listed] == [first.json()["template_id"]]
    assert len(review_queue(api)) == 1

    other = post_template(api, account_id, key, mass(), key="tpl-2")
    assert other.status_code == 201
    assert other.json()["template_id"] != first.json()["template_id"]
    api.settle()
    assert len(list_templates(api, account_id, key)) == 2


# -- both stores -------------------------------------------------------------------------


def test_T6_submit_reject_edit_approve_list_on_both_stores(store_api: Api) -> None:
    """T5/T6/T7 flow, the same on PostgreSQL and SQLite: submit, reject, edit, approve, list."""
    api = store_api
    account_id, key = api.new_account()
    template_id = submit(api, account_id, key)["template_id"]
    api.settle()
    assert [t["template_id"] for t in review_queue(api)] == [template_id]

    assert reject(api, template_id, "请写明门店名称").status_code == 200
    api.settle()
    assert review_queue(api) == []
    [listed] = list_templates(api, account_id, key)
    assert listed["status"] == "rejected"
    assert listed["reasons"][0]["message"] == "请写明门店名称"

    new_content = "阳光花店:春季新品已到店,会员凭短信享九折。"
    r = edit(api, template_id, key, {"signature": "阳光花店", "content": new_content})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["version"]) == ("pending_review", 2)
    api.settle()
    [queued] = review_queue(api)
    assert (queued["template_id"], queued["version"]) == (template_id, 2)
    assert queued["review_due_at"] == DUE_AT_START

    r = approve(api, template_id)
    assert r.status_code == 200, r.text
    assert r.json()["review_due_at"] is None
    api.settle()
    assert review_queue(api) == []
    [listed] = list_templates(api, account_id, key, status="approved")
    assert (listed["template_id"], listed["status"], listed["version"]) == (
        template_id,
        "approved",
        2,
    )
    assert (listed["signature"], listed["content"]) == ("阳光花店", new_content)
    assert listed["review_due_at"] is None
    detail = get_template(api, template_id, key)
    assert [h["action"] for h in detail["history"]] == [
        "submitted",
        "prescreened",
        "rejected",
        "resubmitted",
        "prescreened",
        "approved",
    ]

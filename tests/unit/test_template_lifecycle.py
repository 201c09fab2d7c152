"""A template's life as an aggregate: T4, T5, T6, T7, T10 (review decisions), T11, replay.

Each test drives ``Template`` directly and reads what it recorded with ``collect_events()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from smsplat.domain.errors import (
    InvalidInput,
    TemplateNotApproved,
    TemplateNotEditable,
    TemplateNotPending,
)
from smsplat.domain.review_time import review_due_at
from smsplat.domain.templates import Template, TemplateStatus, draft_template

BEIJING = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING)  # a working day, within review hours
ACCOUNT = "account"
REVIEWER = "reviewer"
SIGNATURE = "花店"
CONTENT = "会员日全场八折,欢迎光临。"


def submit(
    content: str = CONTENT,
    signature: str = SIGNATURE,
    at: datetime = MONDAY,
    account_id: UUID | None = None,
) -> Template:
    draft = draft_template("mass", "marketing", None, signature, content)
    return Template.submit(uuid4(), account_id or uuid4(), draft, ACCOUNT, at)


def approved(at: datetime = MONDAY) -> Template:
    template = submit(at=at)
    template.approve(REVIEWER, at + timedelta(minutes=30))
    return template


def rejected(reason: str = "主题不明确", at: datetime = MONDAY) -> Template:
    template = submit(at=at)
    template.reject(reason, REVIEWER, at + timedelta(minutes=30))
    return template


def deleted(at: datetime = MONDAY) -> Template:
    template = approved(at)
    template.delete(ACCOUNT, at + timedelta(hours=1))
    return template


def status(template: Template) -> TemplateStatus:
    """The status, read through a call so that type checkers do not narrow it between steps."""
    return template.status


def replay(events: Sequence[Any]) -> Template:
    agg: Any = None
    for event in events:
        agg = event.mutate(agg)
    assert isinstance(agg, Template)
    return agg


def state(template: Template) -> dict[str, Any]:
    return {
        "id": template.id,
        "version": template.version,
        "account_id": template.account_id,
        "type": template.type,
        "kind": template.kind,
        "status": template.status,
        "signature": template.signature,
        "content": template.content,
        "review_due_at": template.review_due_at,
        "reasons": template.reasons,
        "flags": template.flags,
        "versions": template.versions,
        "history": template.history,
        "changes": template.changes_since_previous(),
    }


# -- T4: no limit on the number of templates ---------------------------------------------------


def test_T4_an_account_may_have_any_number_of_templates() -> None:
    account_id = uuid4()
    templates = [submit(content=CONTENT, account_id=account_id) for _ in range(200)]
    assert {t.account_id for t in templates} == {str(account_id)}
    assert len({t.id for t in templates}) == 200
    assert all(t.status is TemplateStatus.PENDING_REVIEW for t in templates)


# -- T5: the due time shown on a pending template ----------------------------------------------


@pytest.mark.parametrize(
    "at",
    [
        MONDAY,
        datetime(2026, 3, 6, 19, 30, tzinfo=BEIJING),
        datetime(2026, 3, 7, 10, 0, tzinfo=BEIJING),
        datetime(2026, 10, 2, 11, 0, tzinfo=BEIJING),
    ],
)
def test_T5_a_submitted_template_shows_its_review_due_time(at: datetime) -> None:
    template = submit(at=at)
    assert status(template) is TemplateStatus.PENDING_REVIEW
    assert template.review_due_at == review_due_at(at)
    assert template.review_due_at is not None and template.review_due_at > at


def test_T5_friday_evening_submission_is_due_saturday_morning() -> None:
    template = submit(at=datetime(2026, 3, 6, 19, 30, tzinfo=BEIJING))
    assert template.review_due_at == datetime(2026, 3, 7, 10, 30, tzinfo=BEIJING)


def test_T5_the_due_time_is_cleared_when_approved() -> None:
    template = approved()
    assert status(template) is TemplateStatus.APPROVED
    assert template.review_due_at is None


def test_T5_the_due_time_is_cleared_when_rejected() -> None:
    template = rejected()
    assert status(template) is TemplateStatus.REJECTED
    assert template.review_due_at is None


def test_T5_T10_the_due_time_is_cleared_when_the_prescreen_refuses() -> None:
    template = submit(content="楼盘特价,欢迎看房。")
    assert status(template) is TemplateStatus.REJECTED
    assert template.review_due_at is None


def test_T5_T6_a_resubmission_gets_a_new_due_time_from_its_own_submission() -> None:
    template = rejected()
    again = datetime(2026, 3, 6, 19, 30, tzinfo=BEIJING)
    template.resubmit(SIGNATURE, "会员日全场七折,欢迎光临。", ACCOUNT, again)
    assert template.review_due_at == review_due_at(again)
    assert template.review_due_at == datetime(2026, 3, 7, 10, 30, tzinfo=BEIJING)
    assert template.submitted_at == again


# -- T6: edit and resubmit a rejected template -------------------------------------------------


def test_T6_a_rejected_template_can_be_resubmitted_any_number_of_times() -> None:
    template = submit(content="会员日全场八折,欢迎光临。")
    at = MONDAY
    reasons = [f"第{i}次:主题不明确" for i in range(1, 6)]
    for i, reason in enumerate(reasons, start=1):
        at += timedelta(hours=1)
        template.reject(reason, REVIEWER, at)
        assert status(template) is TemplateStatus.REJECTED
        assert template.reasons == [{"code": "rejected_by_reviewer", "message": reason}]
        at += timedelta(minutes=10)
        template.resubmit(SIGNATURE, f"会员日全场{i}折,欢迎光临。", ACCOUNT, at)
        assert status(template) is TemplateStatus.PENDING_REVIEW
        assert template.reasons == []
        assert template.version_number == i + 1
    template.approve(REVIEWER, at + timedelta(minutes=5))
    assert status(template) is TemplateStatus.APPROVED

    # Every version kept, in order.
    assert [v["version"] for v in template.versions] == [1, 2, 3, 4, 5, 6]
    assert [v["content"] for v in template.versions] == ["会员日全场八折,欢迎光临。"] + [
        f"会员日全场{i}折,欢迎光临。" for i in range(1, 6)
    ]
    # Every rejection reason kept in the history.
    kept = [h["reason"] for h in template.history if h["action"] == "rejected"]
    assert kept == reasons
    assert [h["action"] for h in template.history].count("resubmitted") == 5
    assert template.history[0]["action"] == "submitted"
    assert template.history[-1]["action"] == "approved"


def test_T6_the_rejection_reason_is_kept_after_the_resubmission() -> None:
    template = rejected("请写明活动主题")
    template.resubmit(SIGNATURE, "花店会员日全场八折。", ACCOUNT, MONDAY + timedelta(hours=1))
    rejection = [h for h in template.history if h["action"] == "rejected"]
    assert rejection == [
        {
            "action": "rejected",
            "at": (MONDAY + timedelta(minutes=30)).isoformat(),
            "by": REVIEWER,
            "reason": "请写明活动主题",
        }
    ]


def test_T6_changes_since_previous_shows_what_the_resubmission_changed() -> None:
    template = rejected()
    assert template.changes_since_previous() == {}
    template.resubmit("浮云花店", CONTENT, ACCOUNT, MONDAY + timedelta(hours=1))
    assert template.changes_since_previous() == {
        "signature": {"before": SIGNATURE, "after": "浮云花店"}
    }
    template.reject("内容不清楚", REVIEWER, MONDAY + timedelta(hours=2))
    template.resubmit("浮云花店", "浮云花店会员日全场八折。", ACCOUNT, MONDAY + timedelta(hours=3))
    assert template.changes_since_previous() == {
        "content": {"before": CONTENT, "after": "浮云花店会员日全场八折。"}
    }
    assert (template.signature, template.content) == ("浮云花店", "浮云花店会员日全场八折。")


def test_T6_a_resubmitted_signature_in_brackets_is_kept_without_them() -> None:
    template = rejected()
    template.resubmit("【浮云】", CONTENT, ACCOUNT, MONDAY + timedelta(hours=1))
    assert template.signature == "浮云"
    assert template.versions[-1]["signature"] == "浮云"


@pytest.mark.parametrize(
    "make", [submit, approved, deleted], ids=["pending", "approved", "deleted"]
)
def test_T6_only_a_rejected_template_can_be_edited(make: Any) -> None:
    template: Template = make()
    template.collect_events()
    before = state(template)
    with pytest.raises(TemplateNotEditable) as refused:
        template.resubmit(SIGNATURE, "花店新品上市。", ACCOUNT, MONDAY + timedelta(hours=2))
    assert refused.value.code == "template_not_editable"
    assert template.collect_events() == []
    assert state(template) == before


def test_T6_T10_a_resubmission_is_prescreened_again() -> None:
    template = rejected()
    template.collect_events()
    template.resubmit(SIGNATURE, "会员日加微信领券。", ACCOUNT, MONDAY + timedelta(hours=1))
    events = template.collect_events()
    assert [type(e) for e in events] == [Template.Resubmitted, Template.PreScreened]
    assert status(template) is TemplateStatus.REJECTED
    assert template.review_due_at is None
    assert [(r["code"], r["category"]) for r in template.reasons] == [
        ("forbidden_content", "contact_diversion")
    ]
    assert template.versions[-1]["content"] == "会员日加微信领券。"
    # ... and it can be edited again.
    template.resubmit(SIGNATURE, "会员日到店领券。", ACCOUNT, MONDAY + timedelta(hours=2))
    assert status(template) is TemplateStatus.PENDING_REVIEW
    assert template.version_number == 3


def test_T6_T10_a_template_refused_by_the_prescreen_can_be_edited_and_resubmitted() -> None:
    template = submit(content="您好#content#")
    assert status(template) is TemplateStatus.REJECTED
    assert template.reasons[0]["category"] == "no_clear_subject"
    template.resubmit(SIGNATURE, "您好#name#,花店会员日全场八折。", ACCOUNT, MONDAY)
    assert status(template) is TemplateStatus.PENDING_REVIEW
    assert template.reasons == []


@pytest.mark.parametrize(
    ("signature", "content", "code"),
    [
        (SIGNATURE, "【花店】会员日八折", "two_signatures"),
        (SIGNATURE, "会员日八折】", "two_signatures"),
        ("花【店】", CONTENT, "two_signatures"),
        ("花店花店花店花店花", CONTENT, "invalid_signature"),
        (SIGNATURE, "会员日😀八折", "invalid_content"),
        (SIGNATURE, "好" * 121, "invalid_content"),
    ],
)
def test_T2_T3_T11_a_resubmission_is_checked_like_a_new_template(
    signature: str, content: str, code: str
) -> None:
    template = rejected()
    template.collect_events()
    before = state(template)
    with pytest.raises(InvalidInput) as refused:
        template.resubmit(signature, content, ACCOUNT, MONDAY + timedelta(hours=1))
    assert refused.value.code == code
    assert all(p.message_zh for p in refused.value.problems)
    assert template.collect_events() == []
    assert state(template) == before


# -- T7: delete, use -----------------------------------------------------------------------------


def test_T7_an_approved_template_is_usable() -> None:
    approved().require_usable()  # no error


def test_T7_an_approved_template_can_be_deleted_and_is_then_unusable() -> None:
    template = approved()
    template.collect_events()
    template.delete(ACCOUNT, MONDAY + timedelta(hours=1))
    assert [type(e) for e in template.collect_events()] == [Template.Deleted]
    assert status(template) is TemplateStatus.DELETED
    assert template.history[-1]["action"] == "deleted"
    with pytest.raises(TemplateNotApproved) as refused:
        template.require_usable()
    assert refused.value.code == "template_not_approved"


@pytest.mark.parametrize(
    "make", [submit, rejected, deleted], ids=["pending", "rejected", "deleted"]
)
def test_T7_only_an_approved_template_can_be_deleted(make: Any) -> None:
    template: Template = make()
    template.collect_events()
    before = template.status
    with pytest.raises(TemplateNotApproved) as refused:
        template.delete(ACCOUNT, MONDAY + timedelta(hours=2))
    assert refused.value.code == "template_not_approved"
    assert template.collect_events() == []
    assert template.status is before


@pytest.mark.parametrize("make", [submit, rejected], ids=["pending", "rejected"])
def test_T7_a_pending_or_rejected_template_is_not_usable(make: Any) -> None:
    with pytest.raises(TemplateNotApproved):
        make().require_usable()


def test_T7_T10_a_template_refused_by_the_prescreen_is_not_usable() -> None:
    template = submit(content="比特币挖矿,稳赚不赔。")
    assert status(template) is TemplateStatus.REJECTED
    with pytest.raises(TemplateNotApproved):
        template.require_usable()


# -- T10: review decisions only on pending templates ---------------------------------------------


@pytest.mark.parametrize(
    "make", [approved, rejected, deleted], ids=["approved", "rejected", "deleted"]
)
def test_T10_approve_and_reject_only_a_pending_template(make: Any) -> None:
    template: Template = make()
    template.collect_events()
    before = state(template)
    with pytest.raises(TemplateNotPending) as not_pending:
        template.approve(REVIEWER, MONDAY + timedelta(hours=3))
    assert not_pending.value.code == "template_not_pending"
    with pytest.raises(TemplateNotPending):
        template.reject("理由", REVIEWER, MONDAY + timedelta(hours=3))
    assert template.collect_events() == []
    assert state(template) == before


def test_T10_a_template_refused_by_the_prescreen_is_not_pending() -> None:
    template = submit(content="加QQ领取优惠券。")
    with pytest.raises(TemplateNotPending):
        template.approve(REVIEWER, MONDAY)


def test_T10_a_pending_template_can_be_approved() -> None:
    template = submit()
    template.collect_events()
    template.approve(REVIEWER, MONDAY + timedelta(minutes=5))
    (event,) = template.collect_events()
    assert isinstance(event, Template.Approved)
    assert template.history[-1] == {
        "action": "approved",
        "at": (MONDAY + timedelta(minutes=5)).isoformat(),
        "by": REVIEWER,
    }


@pytest.mark.parametrize("reason", ["", "   ", None, 7, "理" * 501], ids=str)
def test_T10_a_rejection_needs_a_reason_of_1_to_500_characters(reason: object) -> None:
    template = submit()
    template.collect_events()
    with pytest.raises(InvalidInput) as refused:
        template.reject(reason, REVIEWER, MONDAY)
    assert refused.value.code == "validation_error"
    assert template.collect_events() == []
    assert status(template) is TemplateStatus.PENDING_REVIEW


def test_T10_a_rejection_reason_of_500_characters_is_accepted_and_trimmed() -> None:
    template = submit()
    template.reject("理" * 500, REVIEWER, MONDAY)
    assert template.reasons == [{"code": "rejected_by_reviewer", "message": "理" * 500}]
    other = submit()
    other.reject("  请写明活动主题  ", REVIEWER, MONDAY)
    assert other.reasons[0]["message"] == "请写明活动主题"


# -- replay: the events are the template -------------------------------------------------------


def test_T5_T6_T7_T10_replaying_a_long_life_gives_an_equal_template() -> None:
    template = submit(content="会员日加微信领券。")  # refused by the pre-screen
    events: list[Any] = list(template.collect_events())
    at = MONDAY
    for i in range(1, 4):
        at += timedelta(hours=1)
        template.resubmit(f"花店{i}", f"会员日全场{i}折,欢迎光临。", ACCOUNT, at)
        template.reject(f"第{i}次驳回", REVIEWER, at + timedelta(minutes=20))
        events += template.collect_events()
    template.resubmit(
        "【浮云花店】", "浮云花店教育讲座,欢迎光临。", ACCOUNT, at + timedelta(hours=1)
    )
    template.approve(REVIEWER, at + timedelta(hours=2))
    events += template.collect_events()

    again = replay(events)
    assert state(again) == state(template)
    assert status(again) is TemplateStatus.APPROVED
    assert again.version_number == 5
    assert again.flags and again.flags[0]["category"] == "education_and_training"
    assert [h["action"] for h in again.history] == (
        ["submitted", "prescreened"]
        + ["resubmitted", "prescreened", "rejected"] * 3
        + ["resubmitted", "prescreened", "approved"]
    )

    template.delete(ACCOUNT, at + timedelta(hours=3))
    events += template.collect_events()
    gone = replay(events)
    assert state(gone) == state(template)
    assert status(gone) is TemplateStatus.DELETED
    with pytest.raises(TemplateNotApproved):
        gone.require_usable()

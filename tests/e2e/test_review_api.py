"""Template review through the HTTP API on PostgreSQL: the operator's queue, due times on the
Chinese calendar, approve and reject (T5, T6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest
from smsplat.adapters.clock import SimulatedClock

from tests.e2e.helpers import BEIJING, assert_problem, auth
from tests.e2e.template_helpers import (
    CLEAN_CONTENT,
    approve,
    business,
    edit,
    get_template,
    list_templates,
    mass,
    reject,
    review_queue,
    submit,
)
from tests.support import CARRIER_TOKEN, Api


def at(text: str) -> datetime:
    """A Beijing wall-clock time written as ``2026-03-06 19:30``."""
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


# -- T5: the queue -----------------------------------------------------------------------


def test_T5_the_review_queue_is_for_the_operator_only(api: Api) -> None:
    """T5: only the platform operator reviews; an account key (even the owner's) gets 403."""
    account_id, key = api.new_account()
    submit(api, account_id, key)
    api.settle()
    for token in (key, CARRIER_TOKEN):
        assert_problem(api.client.get("/v1/review/queue", headers=auth(token)), 403, "forbidden")
    assert_problem(api.client.get("/v1/review/queue"), 401, "unauthorized")
    assert len(review_queue(api)) == 1


def test_T5_the_queue_lists_pending_templates_oldest_first_with_due_times(
    api: Api, clock: SimulatedClock
) -> None:
    """T5: pending templates of every account, oldest first, each with its review_due_at;
    decided and pre-screen-refused ones are not there."""
    first_id, first_key = api.new_account(phone="13800138001")
    second_id, second_key = api.new_account(name="Second", phone="13800138002")

    oldest = submit(api, second_id, second_key, business("booking"))  # Mon 09:00
    clock.move_to(at("2026-03-02 09:20"))
    middle = submit(api, first_id, first_key)
    clock.move_to(at("2026-03-02 09:40"))
    submit(api, first_id, first_key, mass(content="低息贷款,当天到账。"))  # refused at once
    decided = submit(api, first_id, first_key, mass(content="周末特惠,全场八折。"))
    clock.move_to(at("2026-03-02 18:30"))
    newest = submit(api, second_id, second_key, mass(kind="notice"))
    assert approve(api, decided["template_id"]).status_code == 200

    api.settle()
    queue = review_queue(api)
    assert [t["template_id"] for t in queue] == [
        oldest["template_id"],
        middle["template_id"],
        newest["template_id"],
    ]
    assert [t["review_due_at"] for t in queue] == [
        "2026-03-02T11:00:00+08:00",
        "2026-03-02T11:20:00+08:00",
        "2026-03-03T09:30:00+08:00",  # 1.5 h before 20:00, the other 0.5 h from 09:00
    ]
    assert [t["account_id"] for t in queue] == [second_id, first_id, second_id]
    assert all(t["status"] == "pending_review" for t in queue)
    assert queue[0]["content"] == oldest["content"]
    assert queue[1]["content"] == CLEAN_CONTENT
    for item in queue:
        assert get_template(api, item["template_id"])["review_due_at"] == item["review_due_at"]

    # Paging keeps the order.
    assert [t["template_id"] for t in review_queue(api, limit=2)] == [
        oldest["template_id"],
        middle["template_id"],
    ]
    assert [t["template_id"] for t in review_queue(api, limit=2, offset=2)] == [
        newest["template_id"]
    ]


def test_T5_T6_a_resubmitted_template_queues_again_with_a_new_due_time(
    api: Api, clock: SimulatedClock
) -> None:
    """T5/T6: an edited template rejoins the queue as of its resubmission, due from then."""
    account_id, key = api.new_account()
    first = submit(api, account_id, key)["template_id"]  # Mon 09:00, due 11:00
    clock.move_to(at("2026-03-02 10:00"))
    second = submit(api, account_id, key)["template_id"]  # due 12:00
    assert reject(api, first, "请写明门店名称").status_code == 200
    clock.move_to(at("2026-03-06 19:30"))  # Friday evening
    r = edit(api, first, key, {"signature": "阳光花店", "content": CLEAN_CONTENT})
    assert r.status_code == 200, r.text
    assert r.json()["review_due_at"] == "2026-03-07T10:30:00+08:00"
    api.settle()
    queue = review_queue(api)
    assert [t["template_id"] for t in queue] == [second, first]
    assert [t["review_due_at"] for t in queue] == [
        "2026-03-02T12:00:00+08:00",
        "2026-03-07T10:30:00+08:00",
    ]


# Submitted at (Beijing) → due at, on the Chinese public-holiday calendar (domain/review_time.py).
DUE_TIMES = [
    ("friday_evening", "2026-03-06 19:30", "2026-03-07T10:30:00+08:00"),
    ("saturday", "2026-03-07 10:00", "2026-03-08T10:00:00+08:00"),
    ("national_day", "2026-10-02 11:00", "2026-10-03T11:00:00+08:00"),
    ("make_up_working_saturday", "2026-10-10 10:00", "2026-10-10T12:00:00+08:00"),
    ("monday_before_opening", "2026-03-09 08:00", "2026-03-09T11:00:00+08:00"),
    ("monday_after_closing", "2026-03-09 20:30", "2026-03-10T11:00:00+08:00"),
]


@pytest.mark.parametrize(
    ("submitted", "due"),
    [case[1:] for case in DUE_TIMES],
    ids=[case[0] for case in DUE_TIMES],
)
def test_T5_review_due_time_follows_the_working_calendar(
    api: Api, clock: SimulatedClock, submitted: str, due: str
) -> None:
    """T5: 2 working hours of 9:00–20:00 intake on working days (make-up days included),
    1 day on weekends and public holidays; the due time is shown everywhere it is pending."""
    account_id, key = api.new_account()
    clock.move_to(at(submitted))
    body = submit(api, account_id, key)
    assert body["review_due_at"] == due
    assert datetime.fromisoformat(body["submitted_at"]) == at(submitted)
    assert get_template(api, body["template_id"], key)["review_due_at"] == due
    api.settle()
    [queued] = review_queue(api)
    assert (queued["template_id"], queued["review_due_at"]) == (body["template_id"], due)
    [listed] = list_templates(api, account_id, key)
    assert listed["review_due_at"] == due


# -- approve / reject --------------------------------------------------------------------


def test_T5_only_the_operator_approves_or_rejects(api: Api) -> None:
    """T5: a person on the platform reviews: the account (even the owner) gets 403."""
    account_id, key = api.new_account()
    _, other_key = api.new_account(name="Other", phone="13900139000")
    template_id = submit(api, account_id, key)["template_id"]
    for token in (key, other_key, CARRIER_TOKEN):
        assert_problem(approve(api, template_id, token), 403, "forbidden")
        assert_problem(reject(api, template_id, "不行", token), 403, "forbidden")
    detail = get_template(api, template_id, key)
    assert detail["status"] == "pending_review"
    assert [h["action"] for h in detail["history"]] == ["submitted", "prescreened"]
    api.settle()
    assert [t["template_id"] for t in review_queue(api)] == [template_id]


def test_T5_approve_takes_a_template_out_of_the_queue(api: Api, clock: SimulatedClock) -> None:
    """T5: approval by the operator: approved, no longer due, recorded in the history."""
    account_id, key = api.new_account()
    template_id = submit(api, account_id, key)["template_id"]
    clock.move_to(at("2026-03-02 10:15"))
    r = approve(api, template_id)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["template_id"], body["status"], body["review_due_at"]) == (
        template_id,
        "approved",
        None,
    )
    approved = body["history"][-1]
    assert approved["action"] == "approved"
    assert approved["by"] == "operator"
    assert datetime.fromisoformat(approved["at"]) == at("2026-03-02 10:15")
    assert get_template(api, template_id, key)["status"] == "approved"
    api.settle()
    assert review_queue(api) == []
    [listed] = list_templates(api, account_id, key)
    assert (listed["status"], listed["review_due_at"]) == ("approved", None)


def test_T5_T6_reject_keeps_the_reason_for_the_account(api: Api) -> None:
    """T5/T6: a rejection carries the reviewer's reason, shown to the account and kept."""
    account_id, key = api.new_account()
    template_id = submit(api, account_id, key)["template_id"]
    r = reject(api, template_id, "  签名需与营业执照一致  ")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["review_due_at"]) == ("rejected", None)
    assert [(x["code"], x["message"]) for x in body["reasons"]] == [
        ("rejected_by_reviewer", "签名需与营业执照一致")
    ]
    detail = get_template(api, template_id, key)
    assert detail["reasons"] == body["reasons"]
    rejected = detail["history"][-1]
    assert (rejected["action"], rejected["reason"], rejected["by"]) == (
        "rejected",
        "签名需与营业执照一致",
        "operator",
    )
    api.settle()
    assert review_queue(api) == []
    [listed] = list_templates(api, account_id, key, status="rejected")
    assert listed["reasons"] == body["reasons"]


def test_T5_a_decided_template_cannot_be_decided_again(api: Api) -> None:
    """T5: approve/reject only a pending template; otherwise 409 template_not_pending."""
    account_id, key = api.new_account()
    approved = submit(api, account_id, key)["template_id"]
    assert approve(api, approved).status_code == 200
    rejected = submit(api, account_id, key)["template_id"]
    assert reject(api, rejected).status_code == 200
    for template_id, status in ((approved, "approved"), (rejected, "rejected")):
        assert_problem(approve(api, template_id), 409, "template_not_pending")
        assert_problem(reject(api, template_id, "再次驳回"), 409, "template_not_pending")
        detail = get_template(api, template_id)
        assert detail["status"] == status
        assert [h["action"] for h in detail["history"]][-1] == status
    assert get_template(api, rejected)["reasons"][0]["message"] == "签名与内容不符"


BAD_REASONS: list[dict[str, Any]] = [
    {},
    {"reason": None},
    {"reason": ""},
    {"reason": "   "},
    {"reason": 42},
    {"reason": ["违规"]},
    {"reason": "长" * 501},
    {"reason": "违规", "severity": "high"},
]


def test_T5_T6_a_rejection_needs_a_reason(api: Api) -> None:
    """T6: the reason is what the account sees and keeps: a rejection without one is 422."""
    account_id, key = api.new_account()
    template_id = submit(api, account_id, key)["template_id"]
    for body in BAD_REASONS:
        r = api.client.post(f"/v1/templates/{template_id}/reject", json=body, headers=auth())
        assert_problem(r, 422, "validation_error")
    r = api.client.post(f"/v1/templates/{template_id}/reject", headers=auth())
    assert_problem(r, 422, "validation_error")
    detail = get_template(api, template_id)
    assert detail["status"] == "pending_review"
    assert [h["action"] for h in detail["history"]] == ["submitted", "prescreened"]
    api.settle()
    assert [t["template_id"] for t in review_queue(api)] == [template_id]
    # A reason of exactly 500 characters is fine.
    assert reject(api, template_id, "长" * 500).status_code == 200


def test_T5_approve_or_reject_an_unknown_template_is_404(api: Api) -> None:
    """T5: deciding an unknown template is 404; a malformed id is 422."""
    unknown = str(uuid4())
    assert_problem(approve(api, unknown), 404, "not_found")
    assert_problem(reject(api, unknown, "违规"), 404, "not_found")
    assert_problem(approve(api, "12345"), 422, "validation_error")
    api.settle()
    assert review_queue(api) == []

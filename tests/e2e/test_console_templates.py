"""The templates pages and the review queue over HTTP: submitting with refusals at their
fields (T2, T3, T11), review by the operator (T5: oldest first, reasons required), edit and
resubmit with the changes shown (T6), delete (T7), and who may open what."""

from __future__ import annotations

import re

import httpx

from tests.e2e.test_console_pages import csrf_of, sign_in
from tests.support import OPERATOR_TOKEN, Api

NOTICE = {
    "type": "mass",
    "kind": "notice",
    "signature": "花店",
    "content": "会员日到店有礼，欢迎光临。",
}


def submit(api: Api, account_id: str, fields: dict[str, str]) -> httpx.Response:
    form = api.client.get(f"/console/accounts/{account_id}/templates")
    answer: httpx.Response = api.client.post(
        f"/console/accounts/{account_id}/templates", data={**fields, "csrf_token": csrf_of(form)}
    )
    return answer


def post(api: Api, path: str, page: httpx.Response, **fields: str) -> httpx.Response:
    answer: httpx.Response = api.client.post(path, data={**fields, "csrf_token": csrf_of(page)})
    return answer


def test_a_refused_submission_shows_each_problem_at_its_field(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account()
    sign_in(sqlite_api, key)
    r = submit(sqlite_api, account_id, {"type": "mass", "kind": "notice", "content": "到店有礼"})
    assert r.status_code == 422, r.text
    assert (
        'id="f-signature" name="signature" value="" autocomplete="off" aria-invalid="true"'
        in r.text
    )
    assert 'id="e-signature"' in r.text and "invalid_signature" in r.text
    assert "到店有礼" in r.text  # what was typed is kept


def test_submit_review_reject_edit_approve_delete(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account()
    sign_in(sqlite_api, key)
    r = submit(sqlite_api, account_id, NOTICE)
    assert r.status_code == 200 and "模板已提交" in r.text and "待审核" in r.text
    template_id = r.url.path.rsplit("/", 1)[-1]
    sqlite_api.settle()
    listed = sqlite_api.client.get(f"/console/accounts/{account_id}/templates")
    assert template_id in listed.text and "待审核" in listed.text

    sign_in(sqlite_api, OPERATOR_TOKEN)
    queue = sqlite_api.client.get("/console/review")
    assert queue.status_code == 200 and f'id="review-{template_id}"' in queue.text
    assert "Acme 花店" in queue.text  # the account by its name
    empty = post(sqlite_api, f"/console/review/{template_id}/reject", queue, reason=" ")
    assert empty.status_code == 422 and 'role="alert"' in empty.text
    rejected = post(sqlite_api, f"/console/review/{template_id}/reject", queue, reason="内容不清楚")
    assert rejected.status_code == 200 and "模板已驳回" in rejected.text

    sign_in(sqlite_api, key)
    detail = sqlite_api.client.get(f"/console/accounts/{account_id}/templates/{template_id}")
    assert "已驳回" in detail.text and "内容不清楚" in detail.text
    edit = f"/console/accounts/{account_id}/templates/{template_id}/edit"
    again = post(sqlite_api, edit, detail, signature="花店", content="会员日到店有礼，欢迎您。")
    assert again.status_code == 200 and "模板已修改并重新提交" in again.text
    assert re.search(r"<del>[^<]*光临[^<]*</del>", again.text) and "<ins>您</ins>" in again.text

    sign_in(sqlite_api, OPERATOR_TOKEN)
    sqlite_api.settle()
    queue = sqlite_api.client.get("/console/review")
    assert post(sqlite_api, f"/console/review/{template_id}/approve", queue).status_code == 200
    detail = sqlite_api.client.get(f"/console/accounts/{account_id}/templates/{template_id}")
    assert "审核通过" in detail.text
    gone = post(
        sqlite_api, f"/console/accounts/{account_id}/templates/{template_id}/delete", detail
    )
    assert gone.status_code == 200 and "模板已删除" in gone.text


def test_the_queue_is_the_operators_and_templates_stay_with_their_account(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account()
    other, other_key = sqlite_api.new_account("Other", "13900139000")
    sign_in(sqlite_api, other_key)
    made = submit(sqlite_api, other, NOTICE)
    template_id = made.url.path.rsplit("/", 1)[-1]
    sign_in(sqlite_api, key)
    assert sqlite_api.client.get("/console/review").status_code == 403
    mine = sqlite_api.client.get(f"/console/accounts/{account_id}/templates/{template_id}")
    assert mine.status_code == 404  # another account's template under my account: not found
    theirs = sqlite_api.client.get(f"/console/accounts/{other}/templates/{template_id}")
    assert theirs.status_code == 404
    page = sqlite_api.client.get(f"/console/accounts/{account_id}/templates")
    forged = sqlite_api.client.post(f"/console/accounts/{account_id}/templates",
                                    data={**NOTICE, "csrf_token": "forged"})  # fmt: skip
    assert forged.status_code == 403 and page.status_code == 200

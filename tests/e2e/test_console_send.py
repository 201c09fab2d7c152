"""The send pages over HTTP: the dry run's plan from pasted numbers or an Excel file, confirming
(once, whatever the clicks), the progress reaching 100% with the failed numbers, scheduling,
rescheduling and cancelling; refusals shown, another account's send not found."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import httpx
from openpyxl import Workbook

from tests.e2e.helpers import BEIJING
from tests.e2e.sending_helpers import (
    FAILS,
    ORDINARY,
    REFUSED,
    advance,
    funded_account,
    hand_over,
    mass_template,
)
from tests.e2e.test_audience_api import synced
from tests.e2e.test_console_pages import csrf_of, sign_in
from tests.support import Api

HIDDEN = re.compile(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)">')


def plan(api: Api, account_id: str, fields: dict[str, str | list[str]],
         sheet: bytes | None = None) -> httpx.Response:  # fmt: skip
    form = api.client.get(f"/console/accounts/{account_id}/sends")
    files = {"sheet": ("numbers.xlsx", sheet, "application/octet-stream")} if sheet else None
    answer: httpx.Response = api.client.post(
        f"/console/accounts/{account_id}/sends/plan",
        data={**fields, "csrf_token": csrf_of(form)}, files=files,
    )  # fmt: skip
    return answer


def confirm(api: Api, account_id: str, planned: httpx.Response) -> httpx.Response:
    carried: dict[str, list[str]] = {}
    for name, value in HIDDEN.findall(planned.text):
        carried.setdefault(name, []).append(value)
    answer: httpx.Response = api.client.post(f"/console/accounts/{account_id}/sends", data=carried)
    return answer


def sheet_of(rows: list[str]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["手机号"])
    for row in rows:
        sheet.append([row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_file_planned_confirmed_and_followed_to_its_failed_numbers(api: Api) -> None:
    account_id, key = funded_account(api)
    template = mass_template(api, account_id, key)
    sign_in(api, key)
    planned = plan(api, account_id, {"template_id": template},
                   sheet_of([*ORDINARY[:2], FAILS, REFUSED, "12345", ORDINARY[0]]))  # fmt: skip
    assert planned.status_code == 200, planned.text
    assert re.search(r'id="plan-accepted">4<', planned.text)
    assert re.search(r'id="plan-refused">1<', planned.text) and "12345" in planned.text
    assert "不是有效的手机号码" in planned.text  # the reason in the page's language
    assert api.client.get(f"/console/accounts/{account_id}/sends").text.count("<tr>") <= 1

    sent = confirm(api, account_id, planned)
    assert sent.status_code == 200 and "已发送至4个号码" in sent.text, sent.text
    send_id = sent.url.path.rsplit("/", 1)[-1]
    again = confirm(api, account_id, planned)  # a second click: the same send, not another
    assert again.url.path == sent.url.path
    hand_over(api)
    advance(api, 10)
    api.settle()
    done = api.client.get(f"/console/accounts/{account_id}/sends/{send_id}")
    assert 'id="progress-percent">100%<' in done.text and "hx-get" not in done.text
    assert "已完成" in done.text and "失败 2" in done.text  # statuses named in the page's language
    failed = re.findall(r"<tr><td>(1\d{10})</td>", done.text)
    assert sorted(failed) == sorted([FAILS, REFUSED])
    progress = api.client.get(f"/console/accounts/{account_id}/sends/{send_id}/progress")
    assert progress.status_code == 200 and "100%" in progress.text


def test_a_scheduled_send_is_rescheduled_then_cancelled(api: Api) -> None:
    account_id, key = funded_account(api)
    template = mass_template(api, account_id, key)
    sign_in(api, key)
    now = api.container.clock.now().astimezone(BEIJING)
    later, latest = (f"{now + timedelta(hours=h):%Y-%m-%dT%H:%M}" for h in (2, 3))
    planned = plan(api, account_id, {"template_id": template, "recipients_text": ORDINARY[0],
                                     "scheduled_at": latest})  # fmt: skip
    assert planned.status_code == 200, planned.text
    page = confirm(api, account_id, planned)
    assert page.status_code == 200 and "改期" in page.text, page.text
    send_id = page.url.path.rsplit("/", 1)[-1]
    base = f"/console/accounts/{account_id}/sends/{send_id}"
    bad = api.client.post(
        f"{base}/reschedule", data={"scheduled_at": "", "csrf_token": csrf_of(page)}
    )
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    moved = api.client.post(
        f"{base}/reschedule", data={"scheduled_at": later, "csrf_token": csrf_of(page)}
    )
    assert moved.status_code == 200 and "发送时间已修改" in moved.text, moved.text
    gone = api.client.post(f"{base}/cancel", data={"csrf_token": csrf_of(moved)})
    assert gone.status_code == 200 and "发送已取消" in gone.text


def test_an_audience_picked_planned_and_sent(api: Api) -> None:
    account_id, key = funded_account(api)
    template = mass_template(api, account_id, key)
    for phone in ORDINARY[:2]:
        synced(api, account_id, key, "site_member", phone)
    synced(api, account_id, key, "game_player", ORDINARY[2])
    api.settle()
    sign_in(api, key)
    form = api.client.get(f"/console/accounts/{account_id}/sends")
    assert re.search(r'value="site_member"> [^<(]+\(2\)', form.text), form.text
    assert re.search(r'value="miniapp_booking"> [^<(]+\(0\)', form.text)

    both = plan(api, account_id, {"template_id": template, "audience": "site_member",
                                  "recipients_text": ORDINARY[3]})  # fmt: skip
    assert both.status_code == 422 and 'role="alert"' in both.text
    assert 'value="site_member" checked' in both.text  # the pick is kept for a second try
    planned = plan(api, account_id, {"template_id": template,
                                     "audience": ["site_member", "game_player"]})  # fmt: skip
    assert planned.status_code == 200, planned.text
    assert re.search(r'id="plan-accepted">3<', planned.text), planned.text
    sent = confirm(api, account_id, planned)
    assert sent.status_code == 200 and "已发送至3个号码" in sent.text, sent.text


def test_refusals_and_other_accounts(api: Api) -> None:
    account_id, key = funded_account(api)
    template = mass_template(api, account_id, key)
    other, other_key = funded_account(api, phone="13900139000")
    sign_in(api, key)
    none = plan(api, account_id, {"template_id": template})
    assert none.status_code == 422 and 'role="alert"' in none.text
    planned = plan(api, account_id, {"template_id": template, "recipients_text": ORDINARY[0]})
    sent = confirm(api, account_id, planned)
    send_id = sent.url.path.rsplit("/", 1)[-1]
    sign_in(api, other_key)
    assert api.client.get(f"/console/accounts/{other}/sends/{send_id}").status_code == 404
    assert api.client.get(f"/console/accounts/{account_id}/sends/{send_id}").status_code == 404

"""The console's ledger, opt-out and webhook pages in a real browser (Chinese): the purchase
in the ledger and the balance at an instant, the CSV download, removing an opt-out, adding a
webhook endpoint (a refused one first); axe on each and the screenshots in docs/console/."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.console_pages import assert_accessible, new_account, screenshot, sign_in
from tests.service_process import ServiceProcess
from tests.support import CARRIER_TOKEN

DEADLINE_SECONDS = 600


def reload_until_shown(page: Page, selector: str, text: str) -> None:
    """The read models trail the commands a moment: reload until ``text`` is on the page."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while text not in (page.locator(selector).all_inner_texts() or [""])[0]:
        assert time.monotonic() < deadline, f"{text!r} never shown in {selector}"
        page.reload()


def test_the_ledger_shows_the_purchase_the_balance_at_an_instant_and_the_csv(
    page: Page, service: ServiceProcess
) -> None:
    _, key = new_account(service, "流水商户", "13800138010")
    sign_in(page, key)
    page.get_by_label("1,000条").check()
    page.get_by_role("button", name="购买").click()
    expect(page.locator("#bought")).to_be_visible()
    page.get_by_role("link", name="额度流水").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("额度流水")
    reload_until_shown(page, "main", "购买")
    expect(page.locator("#entries")).to_contain_text("1,000")
    page.get_by_label("时刻（北京时间）").fill("2000-01-01T00:00:00")
    page.get_by_role("button", name="查看余额").click()
    expect(page.locator("#balance-at")).to_contain_text("可用 0 条")
    page.get_by_label("时刻（北京时间）").fill("2099-01-01T00:00:00")
    page.get_by_role("button", name="查看余额").click()
    expect(page.locator("#balance-at")).to_contain_text("可用 1,000 条")
    assert_accessible(page)
    screenshot(page, "ledger")

    with page.expect_download() as got:
        page.get_by_role("link", name="下载这些流水（CSV）").click()
    rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][:5] == ["entry_id", "sequence", "at", "kind", "units"]
    assert [r[3:5] for r in rows[1:]] == [["purchase", "1000"]]


def test_an_opt_out_is_listed_and_removed(page: Page, service: ServiceProcess) -> None:
    account_id, key = new_account(service, "退订商户", "13800138011")
    with httpx.Client(base_url=service.base, timeout=600) as api:
        r = api.post(
            "/v1/carrier/replies", headers={"Authorization": f"Bearer {CARRIER_TOKEN}"},
            json={"replies": [{"phone": "13700137011", "text": "退订", "account_id": account_id}]},
        )  # fmt: skip
        assert r.status_code == 200, r.text
    sign_in(page, key)
    page.goto(f"/console/accounts/{account_id}/opt-outs")
    reload_until_shown(page, "main", "13700137011")
    assert_accessible(page)
    screenshot(page, "opt-outs")
    page.get_by_label("手机号码").fill("13600136011")
    page.get_by_role("button", name="移除", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("not_found")
    assert_accessible(page)
    page.get_by_role("button", name="移除 13700137011").click()
    expect(page.locator("#removed")).to_contain_text("13700137011")
    assert_accessible(page)


def test_a_webhook_endpoint_is_refused_then_added_and_listed(
    page: Page, service: ServiceProcess
) -> None:
    account_id, key = new_account(service, "回调商户", "13800138012")
    sign_in(page, key)
    page.goto(f"/console/accounts/{account_id}/webhooks")
    page.get_by_label("URL（https）").fill("https://10.1.2.3/hook")
    page.get_by_label("send.status").check()
    page.get_by_role("button", name="添加", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("validation_error")
    assert_accessible(page)
    page.get_by_label("URL（https）").fill("https://93.184.216.34/sms")
    page.get_by_role("button", name="添加", exact=True).click()
    expect(page.locator("#secret")).to_have_text(re.compile(r"^whsec_"))
    expect(page.locator("#endpoints")).to_contain_text("https://93.184.216.34/sms")
    assert_accessible(page)
    screenshot(page, "webhooks")
    page.goto(f"/console/accounts/{account_id}/webhooks")  # the secret was shown once
    expect(page.locator("#endpoints")).to_contain_text("https://93.184.216.34/sms")
    expect(page.locator("#secret")).to_have_count(0)

"""Templates and the review queue in a real browser: a refusal at its field, a submission,
the operator approving it in the queue, the account seeing it approved; axe and screenshots."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DEADLINE_MS
from tests.browser.console_pages import (
    assert_accessible,
    new_account,
    reload_until,
    screenshot,
    sign_in,
)
from tests.service_process import ServiceProcess
from tests.support import OPERATOR_TOKEN


def test_submit_a_template_and_the_operator_approves_it_in_the_queue(
    page: Page, browser: Browser, service: ServiceProcess
) -> None:
    account_id, key = new_account(service, "模板花店", "13800138020")
    sign_in(page, key)
    page.get_by_role("link", name="模板").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("模板")
    page.get_by_label("类型", exact=True).select_option("mass")
    page.get_by_label("群发类型（群发模板）").select_option("notice")
    page.get_by_label("内容").fill("会员日到店有礼，欢迎光临。")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#e-signature")).to_contain_text("请填写签名")
    expect(page.get_by_label("签名", exact=True)).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    screenshot(page, "templates-refusal")

    page.get_by_label("签名", exact=True).fill("花店")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#submitted")).to_be_visible()
    expect(page.locator("#status")).to_have_text("待审核")
    template_url = page.url
    assert_accessible(page)
    screenshot(page, "template")

    operator = browser.new_context(base_url=service.base, locale="zh-CN",
                                   viewport={"width": 1100, "height": 800})  # fmt: skip
    operator.set_default_timeout(DEADLINE_MS)
    reviewer = operator.new_page()
    try:
        sign_in(reviewer, OPERATOR_TOKEN)
        reviewer.get_by_role("link", name="审核队列").click()
        card = reviewer.locator("article", has_text="会员日到店有礼")
        reload_until(reviewer, lambda: card.count() == 1)  # the queue's read model may trail
        assert_accessible(reviewer)
        screenshot(reviewer, "review-queue")
        card.get_by_role("button", name="审核通过").click()
        expect(reviewer.locator("#reviewed")).to_have_text("模板已审核通过。")
    finally:
        operator.close()

    page.goto(template_url)
    expect(page.locator("#status")).to_have_text("审核通过")
    page.get_by_role("link", name="返回模板列表").click()
    expect(page).to_have_url(re.compile(f"/console/accounts/{account_id}/templates$"))
    row = page.locator("#templates tbody tr", has_text="会员日到店有礼")
    reload_until(page, lambda: "审核通过" in row.inner_text())  # the list may trail the approval
    assert_accessible(page)
    screenshot(page, "templates")

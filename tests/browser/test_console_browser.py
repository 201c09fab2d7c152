"""The console in a real browser: sign-in, buying, refusals, languages, CSRF, access, sign-out;
axe on every page, and the screenshots in docs/console/."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.console_pages import assert_accessible, new_account, screenshot, sign_in
from tests.service_process import ServiceProcess
from tests.support import OPERATOR_TOKEN


def test_sign_in_with_an_api_key_and_buy_a_package(page: Page, service: ServiceProcess) -> None:
    account_id, key = new_account(service, "Acme 花店", "13800138000")
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert_accessible(page)
    screenshot(page, "sign-in")

    sign_in(page, key)
    expect(page).to_have_url(re.compile(f"/console/accounts/{account_id}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("概览")
    expect(page.locator("#low-balance")).to_be_visible()  # nothing bought yet: 0 < 30 (Q9)
    page.get_by_label("5,000条").check()
    page.get_by_role("button", name="购买").click()
    expect(page.locator("#bought")).to_have_text("已购买5,000条短信包，当前可用5,000条。")
    # the panel reads the read model, which may trail the command a moment; htmx refreshes it
    expect(page.locator("#available")).to_have_text("5,000")
    expect(page.locator("#low-balance")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("table")).to_contain_text("5,000")
    assert_accessible(page)
    screenshot(page, "overview")


def test_a_q3_refusal_is_shown_with_the_apis_code_and_message(
    page: Page, service: ServiceProcess
) -> None:
    new_account(service, "无产品商户", "13800138001", product=None)
    _, key = new_account(service, "No product yet", "13800138002", product=None)
    sign_in(page, key)
    page.get_by_role("button", name="购买").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("no_active_product")
    expect(refusal).to_contain_text("账户须至少开通一个其他产品")
    assert_accessible(page)
    screenshot(page, "overview-refusal")

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    page.get_by_role("button", name="Buy", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("at least one active product")
    assert_accessible(page)
    screenshot(page, "overview-en")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_a_form_with_a_forged_csrf_token_is_refused(page: Page, service: ServiceProcess) -> None:
    _, key = new_account(service, "CSRF 测试", "13800138003")
    sign_in(page, key)
    page.locator("form[action$='/purchases'] input[name=csrf_token]").evaluate(
        "field => { field.value = 'forged' }"
    )
    with page.expect_response(re.compile(r"/purchases$")) as answer:
        page.get_by_role("button", name="购买").click()
    assert answer.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("表单被拒绝")
    assert_accessible(page)
    screenshot(page, "csrf-refused")


def test_an_account_cannot_open_another_accounts_pages(page: Page, service: ServiceProcess) -> None:
    other, _ = new_account(service, "别家", "13800138004")
    _, key = new_account(service, "自家", "13800138005")
    sign_in(page, key)
    answer = page.goto(f"/console/accounts/{other}/")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
    expect(page.get_by_text("别家")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "not-found")


def test_the_operator_lists_accounts_and_switches_to_one(
    page: Page, service: ServiceProcess
) -> None:
    account_id, _ = new_account(service, "运营方查看", "13800138006")
    sign_in(page, OPERATOR_TOKEN)
    expect(page.get_by_role("heading", level=1)).to_have_text("账户列表")
    page.get_by_label("名称包含").fill("运营方")
    page.get_by_role("button", name="搜索").click()
    row = page.locator("#accounts tbody tr", has_text="运营方查看")
    expect(row).to_contain_text("site")
    expect(row).to_contain_text("余额不足")  # nothing bought: 0 units (Q9)
    assert_accessible(page)
    screenshot(page, "accounts")
    row.get_by_role("link", name="运营方查看").click()
    expect(page).to_have_url(re.compile(f"/console/accounts/{account_id}/$"))
    page.get_by_role("link", name="账户列表").click()
    page.get_by_role("textbox", name="账户 ID").fill(account_id)
    page.get_by_role("button", name="打开").click()
    expect(page).to_have_url(re.compile(f"/console/accounts/{account_id}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("运营方查看")


def test_sign_out_closes_the_pages(page: Page, service: ServiceProcess) -> None:
    account_id, key = new_account(service, "退出测试", "13800138007")
    sign_in(page, key)
    expect(page.get_by_role("heading", level=1)).to_contain_text("概览")
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    page.goto(f"/console/accounts/{account_id}/")
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    expect(page.get_by_text("退出测试")).to_have_count(0)


def test_the_pages_are_usable_by_keyboard(page: Page, service: ServiceProcess) -> None:
    _, key = new_account(service, "键盘用户", "13800138008")
    page.goto("/console/sign-in")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到正文")).to_be_focused()
    page.get_by_label("API 密钥或运营方令牌").focus()
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("概览")

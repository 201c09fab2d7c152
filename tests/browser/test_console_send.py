"""The send page in a real browser, the issue's flow: an Excel file uploaded, the dry run's
plan, confirming, the progress bar reaching 100% as the receipts come in (htmx, no reload),
and the records showing the failed numbers; axe and screenshots."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.console_pages import (
    assert_accessible,
    new_account,
    reload_until,
    screenshot,
    sign_in,
)
from tests.e2e.sending_helpers import FAILS, ORDINARY, REFUSED
from tests.e2e.template_helpers import mass
from tests.e2e.test_console_send import sheet_of
from tests.service_process import ServiceProcess
from tests.support import OPERATOR_TOKEN

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
DEADLINE_S = 600
PROGRESS = re.compile(r"/sends/[0-9a-f-]+/progress$")


def _ready_account(service: ServiceProcess) -> tuple[str, str]:
    """A funded account with an approved mass template, through the HTTP API."""
    account_id, key = new_account(service, "发送商户", "13800138030")
    mine = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=service.base, timeout=600) as api:
        r = api.post(f"/v1/accounts/{account_id}/purchases", json={"package_size": 1000},
                     headers=mine)  # fmt: skip
        assert r.status_code == 201, r.text
        r = api.post(f"/v1/accounts/{account_id}/templates", json=mass(), headers=mine)
        assert r.status_code == 201, r.text
        r = api.post(f"/v1/templates/{r.json()['template_id']}/approve", headers=OPERATOR)
        assert r.status_code == 200, r.text
    return account_id, key


def test_upload_plan_confirm_progress_and_failed_numbers(
    page: Page, service: ServiceProcess, tmp_path: Path
) -> None:
    _, key = _ready_account(service)
    upload = tmp_path / "numbers.xlsx"
    upload.write_bytes(sheet_of([*ORDINARY[:2], FAILS, REFUSED, "12345"]))
    sign_in(page, key)
    page.get_by_role("link", name="发送", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("发送")
    reload_until(page, lambda: page.locator("#template_id option").count() > 0)
    page.get_by_label("或上传 Excel 文件（.xlsx，号码在第一列）").set_input_files(str(upload))
    assert_accessible(page)
    screenshot(page, "send")
    page.get_by_role("button", name="预览发送").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("发送预览")
    expect(page.locator("#plan-accepted")).to_have_text("4")
    expect(page.locator("#plan-refused")).to_have_text("1")
    expect(page.locator("#refused")).to_contain_text("12345")
    assert_accessible(page)
    screenshot(page, "send-plan")
    page.get_by_role("button", name="确认发送").click()

    expect(page.locator("#sent")).to_have_text("已发送至4个号码。")
    percent = page.locator("#progress-percent")
    with httpx.Client(base_url=service.base, timeout=600) as api:
        deadline = time.monotonic() + DEADLINE_S
        while percent.inner_text() != "100%":  # htmx refreshes the bar; the clock brings receipts
            assert time.monotonic() < deadline, percent.inner_text()
            with page.expect_response(PROGRESS):  # the next refresh, after an hour more
                r = api.post("/v1/sim/clock", json={"advance_seconds": 3600}, headers=OPERATOR)
                assert r.status_code == 200, r.text
    expect(page.locator("#progress-bar")).to_have_attribute("value", "100")
    failed = page.locator("#failed")
    both = (FAILS, REFUSED)
    reload_until(page, lambda: failed.count() == 1 and all(n in failed.inner_text() for n in both))
    expect(failed).to_contain_text(FAILS)
    expect(failed).to_contain_text(REFUSED)
    assert_accessible(page)
    screenshot(page, "send-progress")

    page.get_by_role("link", name="在发送记录中查看").click()
    table = page.locator("#records")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text(FAILS)
    expect(table).to_contain_text(REFUSED)

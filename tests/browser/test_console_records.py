"""The records and statistics pages in a real browser: messages sent through the API, the
failed ones filtered with their reasons, the CSV export downloaded, the chart and its table."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.console_pages import assert_accessible, new_account, screenshot, sign_in
from tests.e2e.sending_helpers import FAILS, ORDINARY, REFUSED
from tests.e2e.template_helpers import mass
from tests.service_process import ServiceProcess
from tests.support import OPERATOR_TOKEN

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
NUMBERS = [*ORDINARY[:2], FAILS, REFUSED]
DEADLINE_S = 600


def _sent_account(service: ServiceProcess, phone: str) -> tuple[str, str]:
    """An account whose 4 messages are final: 2 delivered, 2 failed (a failed receipt, a
    carrier refusal), all through the HTTP API."""
    account_id, key = new_account(service, "记录商户", phone)
    mine = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=service.base, timeout=600) as api:
        r = api.post(f"/v1/accounts/{account_id}/purchases", json={"package_size": 1000},
                     headers=mine)  # fmt: skip
        assert r.status_code == 201, r.text
        r = api.post(f"/v1/accounts/{account_id}/templates", json=mass(), headers=mine)
        assert r.status_code == 201, r.text
        template_id = r.json()["template_id"]
        r = api.post(f"/v1/templates/{template_id}/approve", headers=OPERATOR)
        assert r.status_code == 200, r.text
        send = {"template_id": template_id, "product": "site", "recipients": NUMBERS}
        r = api.post(f"/v1/accounts/{account_id}/sends", json=send, headers=mine)
        assert r.status_code == 202, r.text
        _wait_until_final(api, account_id)
    return account_id, key


def _wait_until_final(api: httpx.Client, account_id: str) -> None:
    """Move the simulated clock until every message has its final status (a condition)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        r = api.post("/v1/sim/clock", json={"advance_seconds": 3600}, headers=OPERATOR)
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = api.get(
            f"/v1/accounts/{account_id}/messages", headers=OPERATOR
        ).json()["items"]
        if len(items) == len(NUMBERS) and all(m["final_at"] for m in items):
            return
        assert time.monotonic() < deadline, items


def test_records_filter_and_export(page: Page, service: ServiceProcess, tmp_path: Path) -> None:
    account_id, key = _sent_account(service, "13800138101")
    sign_in(page, key)
    page.goto(f"/console/accounts/{account_id}/records")
    table = page.locator("#records")
    for number in NUMBERS:
        expect(table).to_contain_text(number)
    assert_accessible(page)
    screenshot(page, "records")

    page.get_by_label("状态").select_option("failed")
    page.get_by_role("button", name="筛选").click()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("delivery_failed")
    expect(table).to_contain_text("carrier_refused")
    expect(table).not_to_contain_text(ORDINARY[0])
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    saved = tmp_path / "records.csv"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert FAILS in text and REFUSED in text and ORDINARY[0] not in text

    page.get_by_label("手机号").fill("123")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_role("alert")).to_contain_text("validation_error")
    assert_accessible(page)


def test_statistics_chart_and_table(page: Page, service: ServiceProcess) -> None:
    account_id, key = _sent_account(service, "13800138102")
    sign_in(page, key)
    page.goto(f"/console/accounts/{account_id}/statistics?from=2000-01-01&to=2099-01-01")
    chart = page.locator("#daily-chart")
    label = "按日短信统计图，2000-01-01 至 2099-01-01：1 天共发送 4 条；下方表格列出全部数据。"
    expect(chart).to_have_attribute("aria-label", label)
    expect(page.locator("#daily-chart svg, #daily-chart canvas").first).to_be_visible()
    row = page.locator("#daily tbody tr")
    expect(row).to_have_count(1)
    for figure in ("4", "2", "50.0%"):
        expect(row).to_contain_text(figure)
    expect(page.locator("#products tbody")).to_contain_text("site")
    assert_accessible(page)
    screenshot(page, "statistics")

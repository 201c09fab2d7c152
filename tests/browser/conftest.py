"""A real ``smsplat serve`` on SQLite and a headless Debian chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.service_process import ServiceProcess

CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by scripts/test.sh
DEADLINE_MS = 120_000  # auto-waiting on conditions, generous for a busy CI machine
expect.set_options(timeout=DEADLINE_MS)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One service process for the module (the tests make their own accounts)."""
    db = tmp_path_factory.mktemp("console") / "console.db"
    process = ServiceProcess(f"sqlite:///{db}").start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/test.sh to install it"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, service: ServiceProcess) -> Iterator[Page]:
    """A fresh browser context (no cookies), Chinese as a Chinese visitor's browser asks."""
    context = browser.new_context(
        base_url=service.base, locale="zh-CN", viewport={"width": 1100, "height": 800}
    )
    context.set_default_timeout(DEADLINE_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()

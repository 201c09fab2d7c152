"""Steps the console's browser tests share: accounts through the API, sign-in, axe, shots."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page

from tests.service_process import ServiceProcess
from tests.support import OPERATOR_TOKEN

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SHOTS = Path(__file__).parents[2] / "docs" / "console"
SERIOUS = ("serious", "critical")


def new_account(
    service: ServiceProcess, name: str, phone: str, product: str | None = "site"
) -> tuple[str, str]:
    """(account_id, api_key) of a new account, made through the HTTP API."""
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    with httpx.Client(base_url=service.base, timeout=600) as api:
        r = api.post("/v1/accounts", json={"name": name, "verification_phone": phone},
                     headers=operator)  # fmt: skip
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        if product:
            key = {"Authorization": f"Bearer {body['api_key']}"}
            r = api.post(f"/v1/accounts/{body['account_id']}/products",
                         json={"product": product}, headers=key)  # fmt: skip
            assert r.status_code == 200, r.text
    return body["account_id"], body["api_key"]


def sign_in(page: Page, token: str) -> None:
    page.goto("/console/")
    page.get_by_label("API 密钥或运营方令牌").fill(token)
    page.get_by_role("button", name="登录").click()


def assert_accessible(page: Page) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found: list[str] = page.evaluate(
        """async (serious) => (await axe.run(document)).violations
            .filter(v => serious.includes(v.impact))
            .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target)}`)""",
        list(SERIOUS),
    )
    assert not found, found


def screenshot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def reload_until(page: Page, shown: Callable[[], bool], deadline_s: float = 600) -> None:
    """Reload ``page`` until ``shown()``: what it shows comes from a read model that may trail
    the command (a generous deadline, for a busy CI machine)."""
    deadline = time.monotonic() + deadline_s
    while not shown():
        assert time.monotonic() < deadline, "the page never showed it"
        page.reload()

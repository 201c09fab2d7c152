"""Small helpers for the end-to-end tests (HTTP reads, problem+json checks, direct charges)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
from smsplat.commands.quota import QuotaChange
from smsplat.domain.ledger import Reference

from tests.support import OPERATOR_TOKEN, Api

BEIJING = ZoneInfo("Asia/Shanghai")
PROBLEM_JSON = "application/problem+json"


def auth(token: str = OPERATOR_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """``r`` is a problem+json response with ``status`` and the contract's ``code``."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0].strip() == PROBLEM_JSON, r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status, body
    assert body["code"] == code, body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["errors"], list), body  # every problem has its errors list
    return body


def balance(
    api: Api, account_id: str, token: str = OPERATOR_TOKEN, **params: str
) -> dict[str, Any]:
    r = api.client.get(f"/v1/accounts/{account_id}/balance", params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def figures(body: dict[str, Any]) -> tuple[int, int, int, int, int]:
    """(available, locked, purchased_total, charged_total, refunded_total) of a balance."""
    return (
        body["available"],
        body["locked"],
        body["purchased_total"],
        body["charged_total"],
        body["refunded_total"],
    )


def ledger_page(
    api: Api, account_id: str, token: str = OPERATOR_TOKEN, **params: Any
) -> dict[str, Any]:
    r = api.client.get(f"/v1/accounts/{account_id}/ledger", params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def ledger(api: Api, account_id: str, token: str = OPERATOR_TOKEN) -> list[dict[str, Any]]:
    """The account's whole ledger (one page of up to 1000 entries is plenty here)."""
    page = ledger_page(api, account_id, token, limit=1000)
    assert page["next_cursor"] is None
    items: list[dict[str, Any]] = page["items"]
    return items


def alerts(api: Api, account_id: str, token: str = OPERATOR_TOKEN) -> list[dict[str, Any]]:
    r = api.client.get(f"/v1/accounts/{account_id}/alerts", headers=auth(token))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def charge(
    api: Api, account_id: str, message_id: str, units: int, product: str | None = "site"
) -> QuotaChange:
    """A charge as the sending flow will make it (the sending endpoints come later)."""
    change: QuotaChange = api.container.quota.charge(
        UUID(account_id), Reference("message", message_id), units, product, "system"
    )
    return change


def iso(value: datetime) -> str:
    """An instant as the API takes it: ISO 8601 in Beijing time, with its offset."""
    return value.astimezone(BEIJING).isoformat()


def parse_at(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, f"{text!r} has no offset"
    return value

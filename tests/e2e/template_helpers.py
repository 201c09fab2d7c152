"""HTTP helpers for the template, review and notification end-to-end tests (T1–T11)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.helpers import auth
from tests.support import OPERATOR_TOKEN, Api

# T8: the platform's fixed content of each business scenario, as the contract's users see it.
SCENARIO_TEXT = {
    "register": "您的注册验证码为#code#,5分钟内有效,请勿泄露给他人。",
    "reset_password": "您正在找回密码,验证码为#code#,5分钟内有效,请勿泄露给他人。",
    "booking": "您已成功预约#service#,预约时间为#time#,请准时到达。",
    "form": "您收到一条新的表单提交,提交人#name#,请及时登录后台查看。",
}
CLEAN_CONTENT = "春季新品已到店,会员凭短信到店享九折优惠,详询门店。"


def mass(
    content: str = CLEAN_CONTENT, kind: str = "marketing", signature: str = "花店"
) -> dict[str, Any]:
    return {"type": "mass", "kind": kind, "signature": signature, "content": content}


def business(scenario: str = "register", signature: str = "花店", **extra: Any) -> dict[str, Any]:
    return {"type": "business", "scenario": scenario, "signature": signature, **extra}


def post_template(
    api: Api, account_id: str, token: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = auth(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    r: httpx.Response = api.client.post(
        f"/v1/accounts/{account_id}/templates", json=body, headers=headers
    )
    return r


def submit(
    api: Api, account_id: str, token: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Submit a template that must be accepted (201); returns the response body."""
    r = post_template(api, account_id, token, body if body is not None else mass())
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def get_template(api: Api, template_id: str, token: str = OPERATOR_TOKEN) -> dict[str, Any]:
    r = api.client.get(f"/v1/templates/{template_id}", headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def list_templates(
    api: Api, account_id: str, token: str = OPERATOR_TOKEN, **params: Any
) -> list[dict[str, Any]]:
    r = api.client.get(f"/v1/accounts/{account_id}/templates", params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def review_queue(api: Api, **params: Any) -> list[dict[str, Any]]:
    r = api.client.get("/v1/review/queue", params=params, headers=auth())
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def approve(api: Api, template_id: str, token: str = OPERATOR_TOKEN) -> httpx.Response:
    r: httpx.Response = api.client.post(f"/v1/templates/{template_id}/approve", headers=auth(token))
    return r


def reject(
    api: Api, template_id: str, reason: str | None = "签名与内容不符", token: str = OPERATOR_TOKEN
) -> httpx.Response:
    body: dict[str, Any] = {} if reason is None else {"reason": reason}
    r: httpx.Response = api.client.post(
        f"/v1/templates/{template_id}/reject", json=body, headers=auth(token)
    )
    return r


def edit(api: Api, template_id: str, token: str, body: dict[str, Any]) -> httpx.Response:
    r: httpx.Response = api.client.put(
        f"/v1/templates/{template_id}", json=body, headers=auth(token)
    )
    return r


def delete(api: Api, template_id: str, token: str) -> httpx.Response:
    r: httpx.Response = api.client.delete(f"/v1/templates/{template_id}", headers=auth(token))
    return r


def approved_template(
    api: Api, account_id: str, token: str, body: dict[str, Any] | None = None
) -> str:
    """Submit and approve a template; returns its id."""
    template_id: str = submit(api, account_id, token, body)["template_id"]
    r = approve(api, template_id)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    return template_id


def rejected_template(api: Api, account_id: str, token: str, reason: str = "签名与内容不符") -> str:
    """Submit a template and have the reviewer reject it with ``reason``; returns its id."""
    template_id: str = submit(api, account_id, token)["template_id"]
    r = reject(api, template_id, reason)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"
    return template_id

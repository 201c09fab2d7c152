"""S9 through the HTTP API: per-recipient limits fail the message and refund it (Q7)."""

from __future__ import annotations

from typing import Any

from smsplat.adapters.clock import SimulatedClock

from tests.e2e.helpers import auth
from tests.support import Api

PHONE = "13812345678"


def _approved(api: Api, account_id: str, key: str, body: dict[str, Any]) -> str:
    r = api.client.post(f"/v1/accounts/{account_id}/templates", json=body, headers=auth(key))
    assert r.status_code == 201, r.text
    template_id: str = r.json()["template_id"]
    assert (
        api.client.post(f"/v1/templates/{template_id}/approve", headers=auth()).status_code == 200
    )
    return template_id


def _advance(api: Api, seconds: float) -> None:
    r = api.client.post("/v1/sim/clock", json={"advance_seconds": seconds}, headers=auth())
    assert r.status_code == 200, r.text


def test_S9_the_eleventh_code_in_an_hour_fails_and_is_refunded(
    api: Api, clock: SimulatedClock
) -> None:
    account_id, key = api.new_account()
    api.buy(account_id, key)
    register = {"type": "business", "scenario": "register", "signature": "花店"}
    template = _approved(api, account_id, key, register)
    ids = []
    for n in range(11):
        r = api.client.post(
            f"/v1/accounts/{account_id}/messages",
            json={"template_id": template, "phone": PHONE, "variables": {"code": f"{n:06d}"}},
            headers=auth(key),
        )
        assert r.status_code == 202, r.text
        ids.append(r.json()["message_id"])
        _advance(api, 60)
    _advance(api, 10)
    statuses = [api.client.get(f"/v1/messages/{i}", headers=auth(key)).json() for i in ids]
    assert [s["status"] for s in statuses[:10]] == ["success"] * 10
    assert (statuses[10]["status"], statuses[10]["reason"]) == ("failed", "recipient_rate_limited")
    api.settle()
    figures = api.client.get(f"/v1/accounts/{account_id}/balance", headers=auth(key)).json()
    assert (figures["charged_total"], figures["refunded_total"]) == (11, 1)


def test_S9_marketing_three_a_day_and_the_dry_run_warns(api: Api, clock: SimulatedClock) -> None:
    account_id, key = api.new_account()
    api.buy(account_id, key)
    template = _approved(api, account_id, key, {"type": "mass", "kind": "marketing",
                         "signature": "花店", "content": "会员日全场八折。"})  # fmt: skip
    send = {"template_id": template, "recipients": [PHONE, "13912340005"]}
    for _ in range(3):
        r = api.client.post(f"/v1/accounts/{account_id}/sends", json=send, headers=auth(key))
        assert r.status_code == 202, r.text
        _advance(api, 30 * 60)  # marketing goes out once the provider has reviewed it (S8)
    plan = api.client.post(
        f"/v1/accounts/{account_id}/sends", json={**send, "dry_run": True}, headers=auth(key)
    ).json()
    assert plan["rate_limited"] == [PHONE, "13912340005"]
    r = api.client.post(f"/v1/accounts/{account_id}/sends", json=send, headers=auth(key))
    _advance(api, 30 * 60)
    send_id = r.json()["send_id"]
    failed = api.client.get(f"/v1/sends/{send_id}/messages?status=failed", headers=auth(key))
    assert {m["reason"] for m in failed.json()["items"]} == {"recipient_rate_limited"}
    detail = api.client.get(f"/v1/sends/{send_id}", headers=auth(key)).json()
    assert (detail["counts"]["failed"], detail["units_refunded"]) == (2, 2)

"""S4 in bulk: ``POST /v1/accounts/{id}/customers`` with ``{"customers": [...]}`` syncs up to
1,000 customers in one transaction, each as a single sync would, or none of them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.helpers import assert_problem, auth
from tests.e2e.sending_helpers import funded_account
from tests.e2e.test_audience_api import P, customers, synced
from tests.support import Api


def batch(api: Api, account: str, token: str, items: list[dict[str, Any]]) -> httpx.Response:
    r: httpx.Response = api.client.post(
        f"/v1/accounts/{account}/customers", json={"customers": items}, headers=auth(token)
    )
    return r


def customer(phone: str, condition: str = "site_member", **more: Any) -> dict[str, Any]:
    return {"condition": condition, "phone": phone, "product": "site", **more}


def stored_events(api: Api) -> int:
    return int(api.container.audience.recorder.max_notification_id() or 0)


def test_S4_a_batch_syncs_each_customer_once_and_says_which_were_new(api: Api) -> None:
    account, key = funded_account(api)
    known = synced(api, account, key, "site_member", P[0])
    items = [
        customer(P[0], name="王女士"),  # known: renamed
        customer(P[1]),
        customer(P[1], "game_player"),  # another condition: another customer
        customer(P[2], name="李先生"),
        customer(P[2], name="李总"),  # named twice in the batch: synced twice, in order
    ]
    r = batch(api, account, key, items)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["synced"], body["created"]) == (5, 3)
    assert [c["created"] for c in body["customers"]] == [False, True, True, True, False]
    assert body["customers"][0]["customer_id"] == known["customer_id"]
    assert [c["name"] for c in body["customers"]] == ["王女士", None, None, "李总", "李总"]
    listed = customers(api, account)
    assert listed["counts"] == {"site_member": 3, "game_player": 1, "miniapp_booking": 0}
    assert {c["phone"]: c["name"] for c in listed["items"] if c["condition"] == "site_member"} == {
        P[0]: "王女士", P[1]: None, P[2]: "李总"
    }  # fmt: skip

    before = stored_events(api)
    settled = [items[0], items[1], items[2], items[4]]  # as they are now: nothing to record
    again = batch(api, account, key, settled)
    assert again.status_code == 200 and again.json()["created"] == 0, again.text
    assert stored_events(api) == before


def test_S4_a_batch_with_one_bad_customer_stores_none_and_names_each_problem(api: Api) -> None:
    account, key = funded_account(api)
    before = stored_events(api)
    items = [customer(P[0]), customer("12345"), customer(P[1], "vip"), customer(P[2])]
    body = assert_problem(batch(api, account, key, items), 422, "validation_error")
    fields = sorted(e["field"] for e in body["errors"])
    assert fields == ["customers[1].phone", "customers[2].condition"], body
    codes = {e["field"]: e["code"] for e in body["errors"]}
    assert codes["customers[1].phone"] == "invalid_phone"
    assert stored_events(api) == before
    assert customers(api, account)["items"] == []


def test_S4_a_batch_holds_one_to_a_thousand_customers(api: Api) -> None:
    account, key = funded_account(api)
    for size in (0, 1001):
        numbers = [f"139{n:08d}" for n in range(size)]
        body = assert_problem(
            batch(api, account, key, [customer(n) for n in numbers]), 422, "validation_error"
        )
        assert [e["field"] for e in body["errors"]] == ["customers"], body
    thousand = batch(api, account, key, [customer(f"139{n:08d}") for n in range(1000)])
    assert thousand.status_code == 200 and thousand.json()["created"] == 1000, thousand.text
    assert customers(api, account)["counts"]["site_member"] == 1000
    unknown = api.client.post(
        f"/v1/accounts/{account}/customers",
        json={"customers": [{**customer(P[0]), "vip": True}]},
        headers=auth(key),
    )
    assert_problem(unknown, 422, "validation_error")


def test_S4_only_the_account_and_the_operator_sync_a_batch(api: Api) -> None:
    account, _ = funded_account(api)
    _, other_key = funded_account(api, phone="13900139000")
    r = batch(api, account, other_key, [customer(P[0])])
    assert r.status_code in (403, 404), r.text
    assert customers(api, account)["items"] == []

"""``Idempotency-Key`` on state-changing calls (contract: Idempotency)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import assert_problem, auth, balance, figures, ledger
from tests.support import OPERATOR_TOKEN, Api


@pytest.fixture(params=["api", "sqlite_api"])
def store_api(request: pytest.FixtureRequest) -> Api:
    """The same HTTP API on PostgreSQL and on SQLite: behaviour must not differ."""
    chosen: Api = request.getfixturevalue(request.param)
    return chosen


def buy(api: Api, account_id: str, token: str, key: str | None, size: Any = 1000) -> httpx.Response:
    headers = auth(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    r: httpx.Response = api.client.post(
        f"/v1/accounts/{account_id}/purchases", json={"package_size": size}, headers=headers
    )
    return r


def test_same_key_and_body_replays_the_first_purchase(store_api: Api) -> None:
    api = store_api
    account_id, token = api.new_account()
    first = buy(api, account_id, token, "order-1")
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers

    for _ in range(3):
        again = buy(api, account_id, token, "order-1")
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]

    api.settle()
    entries = ledger(api, account_id)
    assert [e["kind"] for e in entries] == ["purchase"]
    assert entries[0]["reference"]["id"] == first.json()["purchase_id"]
    assert figures(balance(api, account_id)) == (1000, 0, 1000, 0, 0)

    # Without a key, or with another key, a purchase is a new purchase.
    assert buy(api, account_id, token, None).status_code == 201
    second = buy(api, account_id, token, "order-2")
    assert second.status_code == 201
    assert second.json()["purchase_id"] != first.json()["purchase_id"]
    api.settle()
    assert figures(balance(api, account_id)) == (3000, 0, 3000, 0, 0)


def test_same_key_with_another_body_is_refused(api: Api) -> None:
    account_id, token = api.new_account()
    first = buy(api, account_id, token, "order-1", 1000)
    assert first.status_code == 201
    r = buy(api, account_id, token, "order-1", 5000)
    assert_problem(r, 422, "idempotency_key_reused")
    # The first response is still what the key answers.
    assert buy(api, account_id, token, "order-1", 1000).content == first.content
    api.settle()
    assert figures(balance(api, account_id)) == (1000, 0, 1000, 0, 0)
    assert len(ledger(api, account_id)) == 1


def test_the_same_key_on_two_accounts_is_independent(api: Api) -> None:
    a_id, a_token = api.new_account(phone="13800138001")
    b_id, b_token = api.new_account(phone="13800138002")
    a = buy(api, a_id, a_token, "shared-key", 1000)
    b = buy(api, b_id, b_token, "shared-key", 5000)
    assert a.status_code == b.status_code == 201
    assert "idempotent-replayed" not in b.headers
    assert a.json()["purchase_id"] != b.json()["purchase_id"]
    api.settle()
    assert figures(balance(api, a_id)) == (1000, 0, 1000, 0, 0)
    assert figures(balance(api, b_id)) == (5000, 0, 5000, 0, 0)
    assert ledger(api, a_id)[0]["reference"]["id"] == a.json()["purchase_id"]
    assert ledger(api, b_id)[0]["reference"]["id"] == b.json()["purchase_id"]


def test_keys_are_scoped_to_the_caller_and_the_route(api: Api) -> None:
    """Two callers never see each other's responses (api/idempotency.py): the operator and
    the account using the same key on the same path each get their own purchase; the same
    key on another route is another request."""
    account_id, token = api.new_account()
    mine = buy(api, account_id, token, "k-1", 1000)
    operators = buy(api, account_id, OPERATOR_TOKEN, "k-1", 1000)
    assert mine.status_code == operators.status_code == 201
    assert "idempotent-replayed" not in operators.headers
    assert operators.json()["purchase_id"] != mine.json()["purchase_id"]
    r = api.client.post(
        f"/v1/accounts/{account_id}/products",
        json={"product": "mall"},
        headers={**auth(token), "Idempotency-Key": "k-1"},
    )
    assert r.status_code == 200, r.text
    assert "idempotent-replayed" not in r.headers
    assert r.json()["products"] == ["site", "mall"]
    api.settle()
    assert figures(balance(api, account_id)) == (2000, 0, 2000, 0, 0)
    assert [e["actor"] for e in ledger(api, account_id)] == [f"account:{account_id}", "operator"]


def test_keyed_account_creation_returns_the_same_account(api: Api) -> None:
    body = {"name": "Acme", "verification_phone": "13800138000"}
    headers = {**auth(), "Idempotency-Key": "new-customer-42"}
    first = api.client.post("/v1/accounts", json=body, headers=headers)
    again = api.client.post("/v1/accounts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    account_id, key = first.json()["account_id"], first.json()["api_key"]
    r = api.client.get(f"/v1/accounts/{account_id}", headers=auth(key))
    assert r.status_code == 200, r.text

    # Another key creates another account.
    other = api.client.post("/v1/accounts", json=body, headers={**auth(), "Idempotency-Key": "x"})
    assert other.status_code == 201
    assert other.json()["account_id"] != account_id


def test_an_error_response_is_replayed_as_is(api: Api) -> None:
    account_id, token = api.new_account(product=None)
    first = buy(api, account_id, token, "order-1")
    assert_problem(first, 409, "no_active_product")

    # Even once the account could buy, the key still answers with its first response.
    r = api.client.post(
        f"/v1/accounts/{account_id}/products", json={"product": "site"}, headers=auth(token)
    )
    assert r.status_code == 200
    again = buy(api, account_id, token, "order-1")
    assert_problem(again, 409, "no_active_product")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    api.settle()
    assert ledger(api, account_id) == []

    # A new key goes through.
    assert buy(api, account_id, token, "order-2").status_code == 201


def test_a_validation_error_is_replayed_too(api: Api) -> None:
    account_id, token = api.new_account()
    first = buy(api, account_id, token, "k", 2000)
    assert_problem(first, 422, "invalid_package")
    again = buy(api, account_id, token, "k", 2000)
    assert again.headers["idempotent-replayed"] == "true"
    assert json.loads(again.content) == json.loads(first.content)


def test_refund_refusal_with_a_key_is_replayed_and_changes_nothing(api: Api) -> None:
    """Q2 with a key: the refusal is the answer every time; nothing changes."""
    account_id, token = api.new_account()
    purchase_id = api.buy(account_id, token)["purchase_id"]
    path = f"/v1/accounts/{account_id}/purchases/{purchase_id}/refund"
    headers = {**auth(token), "Idempotency-Key": "refund-1"}
    first = api.client.post(path, headers=headers)
    assert_problem(first, 409, "not_refundable")
    again = api.client.post(path, headers=headers)
    assert_problem(again, 409, "not_refundable")
    assert again.headers["idempotent-replayed"] == "true"
    api.settle()
    assert figures(balance(api, account_id)) == (1000, 0, 1000, 0, 0)


def test_a_malformed_key_is_refused(api: Api) -> None:
    account_id, token = api.new_account()
    for key in ["", "x" * 256, "bad\u0007key"]:
        r = api.client.post(
            f"/v1/accounts/{account_id}/purchases",
            json={"package_size": 1000},
            headers={**auth(token), "Idempotency-Key": key},
        )
        assert_problem(r, 422, "validation_error")
    api.settle()
    assert ledger(api, account_id) == []

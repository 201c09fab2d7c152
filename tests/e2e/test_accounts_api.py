"""Accounts through the HTTP API: creation, authentication, access, products, Q3."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from smsplat.domain.products import Product

from tests.e2e.helpers import PROBLEM_JSON, assert_problem, auth, balance, figures, ledger
from tests.support import CARRIER_TOKEN, Api

ALL_PRODUCTS = ["site", "mall", "lite", "edu", "interactive", "flyer", "miniapp"]


def create(api: Api, body: dict[str, Any], token: str | None = None) -> Any:
    headers = auth(token) if token else auth()
    return api.client.post("/v1/accounts", json=body, headers=headers)


def test_operator_creates_account_and_its_key_works_as_bearer(api: Api) -> None:
    r = create(api, {"name": "  Acme 花店 ", "verification_phone": "+86 139-0013-9000"})
    assert r.status_code == 201, r.text
    body = r.json()
    account_id = str(UUID(body["account_id"]))
    key = body["api_key"]
    assert isinstance(key, str) and len(key) >= 32
    assert body["name"] == "Acme 花店"
    assert body["verification_phone"] == "13900139000"

    # The key is a bearer token for its own account.
    r = api.client.get(f"/v1/accounts/{account_id}", headers=auth(key))
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["account_id"] == account_id
    assert shown["products"] == []
    # The key is shown once: never again on a read.
    assert "api_key" not in shown and key not in r.text
    assert figures(balance(api, account_id, key)) == (0, 0, 0, 0, 0)

    # Two accounts never share an id or a key.
    other = create(api, {"name": "Other", "verification_phone": "13800138000"}).json()
    assert other["account_id"] != account_id
    assert other["api_key"] != key


def test_only_the_operator_creates_accounts(api: Api) -> None:
    _, key = api.new_account()
    for token in (key, CARRIER_TOKEN):
        r = create(api, {"name": "Sneaky", "verification_phone": "13800138000"}, token)
        assert_problem(r, 403, "forbidden")


BAD_AUTHORIZATIONS = [
    None,
    "",
    "Bearer",
    "Bearer   ",
    "Bearer garbage",
    "Basic dGVzdDp0ZXN0",
    "test-operator-token",
    "Bearer smsk_00000000000000000000000000000000_secret",
]


def test_missing_or_garbage_token_is_401_problem_json(api: Api) -> None:
    account_id, _ = api.new_account()
    for authorization in BAD_AUTHORIZATIONS:
        headers = {} if authorization is None else {"Authorization": authorization}
        for method, path, body in (
            ("POST", "/v1/accounts", {"name": "X", "verification_phone": "13800138000"}),
            ("GET", f"/v1/accounts/{account_id}/balance", None),
        ):
            r = api.client.request(method, path, json=body, headers=headers)
            problem = assert_problem(r, 401, "unauthorized")
            assert r.headers["content-type"] == PROBLEM_JSON, authorization
            assert r.headers.get("www-authenticate", "").lower().startswith("bearer")
            assert "available" not in problem


def test_a_key_with_a_wrong_secret_is_401(api: Api) -> None:
    account_id, key = api.new_account()
    prefix, hex_id, _secret = key.split("_", 2)
    forged = f"{prefix}_{hex_id}_{'A' * 43}"
    r = api.client.get(f"/v1/accounts/{account_id}/balance", headers=auth(forged))
    body = assert_problem(r, 401, "unauthorized")
    assert "available" not in body


def test_validation_lists_every_problem(api: Api) -> None:
    r = create(api, {"name": "", "verification_phone": "+852 9123 4567"})
    body = assert_problem(r, 422, "validation_error")
    errors = body["errors"]
    assert len(errors) == 2, errors
    by_field = {e["field"]: e for e in errors}
    assert by_field["name"]["code"] == "validation_error"
    assert by_field["verification_phone"]["code"] == "not_mainland_mobile"
    assert all(isinstance(e["message"], str) and e["message"] for e in errors)


def test_validation_lists_every_missing_field(api: Api) -> None:
    body = assert_problem(create(api, {}), 422, "validation_error")
    fields = sorted(e["field"] for e in body["errors"])
    assert fields == ["name", "verification_phone"], body


def test_verification_phone_must_be_a_mainland_mobile(api: Api) -> None:
    for phone, code in [
        ("12345", "invalid_phone"),
        ("abc", "invalid_phone"),
        ("+1 212 555 0100", "not_mainland_mobile"),
        ("+853 6612 3456", "not_mainland_mobile"),
        ("+886 912 345 678", "not_mainland_mobile"),
        ("010 6552 9988", "not_mainland_mobile"),  # a Beijing landline
    ]:
        r = create(api, {"name": "Acme", "verification_phone": phone})
        body = assert_problem(r, 422, "validation_error")
        assert [(e["field"], e["code"]) for e in body["errors"]] == [
            ("verification_phone", code)
        ], phone


def test_unknown_field_is_refused(api: Api) -> None:
    r = create(api, {"name": "Acme", "verification_phone": "13800138000", "is_admin": True})
    body = assert_problem(r, 422, "validation_error")
    assert any(e["field"] == "is_admin" for e in body["errors"]), body


def test_account_key_activates_every_product(api: Api) -> None:
    account_id, key = api.new_account(product=None)
    assert [p.value for p in Product] == ALL_PRODUCTS
    for i, product in enumerate(ALL_PRODUCTS):
        r = api.client.post(
            f"/v1/accounts/{account_id}/products", json={"product": product}, headers=auth(key)
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"account_id": account_id, "products": ALL_PRODUCTS[: i + 1]}
    r = api.client.get(f"/v1/accounts/{account_id}", headers=auth())
    assert r.json()["products"] == ALL_PRODUCTS


def test_unknown_product_is_422_and_activates_nothing(api: Api) -> None:
    account_id, key = api.new_account(product=None)
    for product in ["sms", "", "SITE", 1, None, ["site"]]:
        r = api.client.post(
            f"/v1/accounts/{account_id}/products", json={"product": product}, headers=auth(key)
        )
        assert_problem(r, 422, "validation_error")
    assert api.client.get(f"/v1/accounts/{account_id}", headers=auth()).json()["products"] == []


def test_product_activation_is_idempotent(api: Api) -> None:
    account_id, key = api.new_account(product="mall")
    for token in (key, None):
        r = api.client.post(
            f"/v1/accounts/{account_id}/products",
            json={"product": "mall"},
            headers=auth(token) if token else auth(),
        )
        assert r.status_code == 200, r.text
        assert r.json()["products"] == ["mall"]
    assert api.client.get(f"/v1/accounts/{account_id}", headers=auth()).json()["products"] == [
        "mall"
    ]


def test_an_account_key_never_reaches_another_account(api: Api) -> None:
    a_id, a_key = api.new_account(name="Alpha", phone="13800138001")
    b_id, b_key = api.new_account(name="Bravo 秘密", phone="13900139002")
    bought = api.buy(b_id, b_key, 5000)
    api.settle()
    before = ledger(api, b_id)

    attempts = [
        ("GET", f"/v1/accounts/{b_id}", None),
        ("GET", f"/v1/accounts/{b_id}/balance", None),
        ("GET", f"/v1/accounts/{b_id}/ledger", None),
        ("GET", f"/v1/accounts/{b_id}/alerts", None),
        ("POST", f"/v1/accounts/{b_id}/products", {"product": "edu"}),
        ("POST", f"/v1/accounts/{b_id}/purchases", {"package_size": 1000}),
        ("POST", f"/v1/accounts/{b_id}/purchases/{bought['purchase_id']}/refund", None),
    ]
    for method, path, body in attempts:
        r = api.client.request(method, path, json=body, headers=auth(a_key))
        assert_problem(r, 404, "not_found")  # the same as an account that does not exist
        for secret in ("Bravo", "13900139002", "5000", bought["purchase_id"], "available"):
            assert secret not in r.text, (path, r.text)

    # Asking for B's purchase on A's own path does not reveal it either (404, not 409).
    r = api.client.post(
        f"/v1/accounts/{a_id}/purchases/{bought['purchase_id']}/refund", headers=auth(a_key)
    )
    assert_problem(r, 404, "not_found")

    api.settle()
    assert ledger(api, b_id) == before
    assert api.client.get(f"/v1/accounts/{b_id}", headers=auth()).json()["products"] == ["site"]
    assert figures(balance(api, b_id)) == (5000, 0, 5000, 0, 0)


def test_operator_on_an_unknown_account_is_404(api: Api) -> None:
    unknown = uuid4()
    for method, suffix, body in [
        ("GET", "", None),
        ("GET", "/balance", None),
        ("GET", "/ledger", None),
        ("GET", "/alerts", None),
        ("POST", "/products", {"product": "site"}),
        ("POST", "/purchases", {"package_size": 1000}),
        ("POST", "/purchases/p-1/refund", None),
    ]:
        r = api.client.request(method, f"/v1/accounts/{unknown}{suffix}", json=body, headers=auth())
        assert_problem(r, 404, "not_found")


def test_account_key_on_an_unknown_account_is_404_as_on_another_account(api: Api) -> None:
    """One rule for other accounts: not found, whether the account exists or not."""
    _, key = api.new_account()
    other, _ = api.new_account(name="Other", phone="13800138002")
    unknown = api.client.get(f"/v1/accounts/{uuid4()}/balance", headers=auth(key))
    another = api.client.get(f"/v1/accounts/{other}/balance", headers=auth(key))
    for r in (unknown, another):
        assert_problem(r, 404, "not_found")
    assert unknown.json()["detail"] == another.json()["detail"]


def test_Q3_purchase_before_any_product_is_409_and_records_nothing(api: Api) -> None:
    """Q3: only an account with another active product can buy a package."""
    account_id, key = api.new_account(product=None)
    for token in (key, None):
        r = api.client.post(
            f"/v1/accounts/{account_id}/purchases",
            json={"package_size": 1000},
            headers=auth(token) if token else auth(),
        )
        assert_problem(r, 409, "no_active_product")
    api.settle()
    assert ledger(api, account_id) == []
    assert figures(balance(api, account_id)) == (0, 0, 0, 0, 0)

    # Once a product is active, the same purchase goes through.
    r = api.client.post(
        f"/v1/accounts/{account_id}/products", json={"product": "flyer"}, headers=auth(key)
    )
    assert r.status_code == 200, r.text
    bought = api.buy(account_id, key, 1000)
    assert bought["balance"]["available"] == 1000
    api.settle()
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase"]

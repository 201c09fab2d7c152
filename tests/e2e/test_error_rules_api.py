"""One rule for errors, on every path: each problem lists the fields at fault in ``errors``
(field, stable code, message), and the refusals of issue 15 name theirs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.helpers import assert_problem, auth, parse_at
from tests.e2e.sending_helpers import advance, funded_account, mass_template, post_send
from tests.support import Api


def fields_at_fault(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in body["errors"]]


def test_no_active_product_names_the_products(api: Api) -> None:
    account_id, key = api.new_account(product=None)
    r = api.client.post(
        f"/v1/accounts/{account_id}/purchases", json={"package_size": 1000}, headers=auth(key)
    )
    body = assert_problem(r, 409, "no_active_product")
    assert fields_at_fault(body) == [("products", "no_active_product")]


def test_invalid_package_names_the_package_size(api: Api) -> None:
    account_id, key = api.new_account()
    for size in (1234, "many"):
        r = api.client.post(
            f"/v1/accounts/{account_id}/purchases", json={"package_size": size}, headers=auth(key)
        )
        body = assert_problem(r, 422, "invalid_package")
        assert fields_at_fault(body) == [("package_size", "invalid_package")]


def test_a_past_scheduled_at_names_it(api: Api) -> None:
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key)
    past = parse_at(advance(api, 0)) - timedelta(hours=1)
    body = {"template_id": template_id, "recipients": ["13812340005"],
            "scheduled_at": past.isoformat()}  # fmt: skip
    problem = assert_problem(post_send(api, account_id, key, body), 422, "validation_error")
    assert fields_at_fault(problem) == [("scheduled_at", "validation_error")]


def test_unknown_audience_conditions_name_them(api: Api) -> None:
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key)
    audiences: list[dict[str, Any]] = [{"conditions": ["vip"]}, {"conditions": []}, {}]
    for audience in audiences:
        body = {"template_id": template_id, "audience": audience}
        problem = assert_problem(post_send(api, account_id, key, body), 422, "validation_error")
        assert fields_at_fault(problem) == [("audience.conditions", "validation_error")]


def test_a_bad_query_parameter_names_it(api: Api) -> None:
    account_id, key = api.new_account()
    r = api.client.get(f"/v1/accounts/{account_id}/sends?status=lost", headers=auth(key))
    assert fields_at_fault(assert_problem(r, 422, "validation_error")) == [
        ("status", "validation_error")
    ]


def test_problems_without_a_field_still_carry_an_empty_errors_list(api: Api) -> None:
    account_id, _ = api.new_account()
    r = api.client.get(f"/v1/accounts/{account_id}/balance")
    assert assert_problem(r, 401, "unauthorized")["errors"] == []

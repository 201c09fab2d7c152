"""HTTP metrics carry the route template of every request that reached a route, including
the ones answered before the route ran: idempotency replays and refused tokens."""

from __future__ import annotations

from tests.e2e.metrics_helpers import value
from tests.support import Api

TEMPLATE = "/v1/accounts/{account_id}/purchases"


def test_an_idempotency_replay_is_counted_under_its_route(api: Api) -> None:
    account_id, key = api.new_account()
    headers = {**api.auth(key), "Idempotency-Key": "buy-once"}
    for _ in range(3):
        r = api.client.post(
            f"/v1/accounts/{account_id}/purchases", json={"package_size": 1000}, headers=headers
        )
        assert r.status_code == 201, r.text
    assert r.headers["Idempotent-Replayed"] == "true"
    count = "smsplat_http_requests_total"
    assert value(api, count, method="POST", route=TEMPLATE, status="201") == 3
    assert value(api, count, method="POST", route="unmatched", status="201") is None
    latency = "smsplat_http_request_seconds_count"
    assert value(api, latency, method="POST", route=TEMPLATE) == 3


def test_a_refused_token_is_counted_under_its_route(api: Api) -> None:
    account_id, _ = api.new_account(product=None)
    for token in ("not-a-key", ""):
        r = api.client.post(
            f"/v1/accounts/{account_id}/purchases",
            json={"package_size": 1000},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 401, r.text
    count = "smsplat_http_requests_total"
    assert value(api, count, method="POST", route=TEMPLATE, status="401") == 2
    assert value(api, count, method="POST", route="unmatched", status="401") is None


def test_a_path_no_route_has_stays_unmatched(api: Api) -> None:
    assert api.client.get("/v1/no-such-thing").status_code == 404
    count = "smsplat_http_requests_total"
    assert value(api, count, method="GET", route="unmatched", status="404") == 1


def test_a_key_reused_with_another_request_is_counted_under_its_route(api: Api) -> None:
    account_id, key = api.new_account()
    headers = {**api.auth(key), "Idempotency-Key": "buy-once"}
    url = f"/v1/accounts/{account_id}/purchases"
    assert api.client.post(url, json={"package_size": 1000}, headers=headers).status_code == 201
    r = api.client.post(url, json={"package_size": 5000}, headers=headers)
    assert r.status_code == 422, r.text
    count = "smsplat_http_requests_total"
    assert value(api, count, method="POST", route=TEMPLATE, status="422") == 1
    assert value(api, count, method="POST", route="unmatched", status="422") is None


def test_a_method_the_route_does_not_take_is_counted_under_its_route(api: Api) -> None:
    assert api.client.delete("/v1/health").status_code == 405
    count = "smsplat_http_requests_total"
    assert value(api, count, method="DELETE", route="/v1/health", status="405") == 1

"""Health, metrics, the OpenAPI document, the simulated clock, body limit, unknown routes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from smsplat.adapters.clock import SimulatedClock

from tests.conftest import START
from tests.e2e.helpers import PROBLEM_JSON, assert_problem, auth, iso, parse_at
from tests.support import CARRIER_TOKEN, Api

MIB = 1 << 20


def test_health_is_200(api: Api) -> None:
    r = api.client.get("/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["simulation"] is True


def test_metrics_are_prometheus_text(api: Api) -> None:
    assert api.client.get("/v1/health").status_code == 200
    r = api.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "# TYPE smsplat_http_requests_total counter" in text
    assert 'smsplat_http_requests_total{method="GET",route="/v1/health",status="200"}' in text
    assert "# TYPE smsplat_projection_lag_events gauge" in text
    assert 'smsplat_projection_lag_events{read_model="quota_ledger"}' in text


def test_openapi_lists_the_contract_paths(api: Api) -> None:
    r = api.client.get("/openapi.json")
    assert r.status_code == 200, r.text
    paths = r.json()["paths"]
    expected = {
        "/v1/accounts": {"post"},
        "/v1/accounts/{account_id}/products": {"post"},
        "/v1/accounts/{account_id}/purchases": {"post"},
        "/v1/accounts/{account_id}/purchases/{purchase_id}/refund": {"post"},
        "/v1/accounts/{account_id}/balance": {"get"},
        "/v1/accounts/{account_id}/ledger": {"get"},
        "/v1/accounts/{account_id}/alerts": {"get"},
        "/v1/health": {"get"},
        "/v1/sim/clock": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    ledger_params = {
        p["name"] for p in paths["/v1/accounts/{account_id}/ledger"]["get"]["parameters"]
    }
    assert {"from", "to", "kind", "limit", "cursor"} <= ledger_params
    balance_params = {
        p["name"] for p in paths["/v1/accounts/{account_id}/balance"]["get"]["parameters"]
    }
    assert "as_of" in balance_params


def test_sim_clock_advances_now(api: Api, clock: SimulatedClock) -> None:
    r = api.client.post("/v1/sim/clock", json={"advance_seconds": 90}, headers=auth())
    assert r.status_code == 200, r.text
    now = parse_at(r.json()["now"])
    assert now == START + timedelta(seconds=90) == clock.now()
    assert r.json()["now"].endswith("+08:00")
    r = api.client.post("/v1/sim/clock", json={"advance_seconds": 0.5}, headers=auth())
    assert parse_at(r.json()["now"]) == START + timedelta(seconds=90.5)


def test_sim_clock_moves_to_a_later_now(api: Api, clock: SimulatedClock) -> None:
    target = START + timedelta(days=2, hours=3)
    r = api.client.post("/v1/sim/clock", json={"now": iso(target)}, headers=auth())
    assert r.status_code == 200, r.text
    assert parse_at(r.json()["now"]) == target == clock.now()


def test_sim_clock_is_operator_only(api: Api, clock: SimulatedClock) -> None:
    _, key = api.new_account()
    for token in (key, CARRIER_TOKEN):
        r = api.client.post("/v1/sim/clock", json={"advance_seconds": 60}, headers=auth(token))
        assert_problem(r, 403, "forbidden")
    r = api.client.post("/v1/sim/clock", json={"advance_seconds": 60})
    assert_problem(r, 401, "unauthorized")
    assert clock.now() == START


def test_sim_clock_refuses_bad_moves(api: Api, clock: SimulatedClock) -> None:
    """``now`` in the past, both fields, neither, or nonsense: 422 and the clock stays."""
    for body in [
        {"now": iso(START - timedelta(seconds=1))},
        {"advance_seconds": 60, "now": iso(START + timedelta(hours=1))},
        {},
        {"advance_seconds": -1},
        {"advance_seconds": "soon"},
        {"now": "2026-03-02T10:00:00"},
        {"now": "tomorrow"},
        {"advance_seconds": 60, "rewind": True},
    ]:
        r = api.client.post("/v1/sim/clock", json=body, headers=auth())
        assert_problem(r, 422, "validation_error")
        assert clock.now() == START, body


def test_a_body_over_1_mib_is_413(api: Api) -> None:
    account_id, key = api.new_account()
    big = b'{"package_size": 1000, "pad": "' + b"x" * MIB + b'"}'
    for path, token in ((f"/v1/accounts/{account_id}/purchases", key), ("/v1/accounts", None)):
        r = api.client.post(
            path,
            content=big,
            headers={**(auth(token) if token else auth()), "Content-Type": "application/json"},
        )
        assert_problem(r, 413, "payload_too_large")
    api.settle()
    assert api.client.get(f"/v1/accounts/{account_id}/ledger", headers=auth()).json()["items"] == []


def big_chunks() -> Iterator[bytes]:
    """A JSON body of over 1 MiB, sent in chunks (no Content-Length)."""
    yield b'{"package_size": 1000, "pad": "'
    for _ in range(17):
        yield b"x" * 65536
    yield b'"}'


@pytest.mark.parametrize("idempotency_key", [None, "big-1"])
def test_a_streamed_body_over_1_mib_is_413(api: Api, idempotency_key: str | None) -> None:
    """Without a Content-Length the limit still holds (counted while reading), with or
    without an Idempotency-Key (whose layer reads the body before the route does)."""
    account_id, key = api.new_account()
    headers = {**auth(key), "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    # A client that shows a server error as the 500 a real client would get.
    client = TestClient(api.client.app, raise_server_exceptions=False)
    r = client.post(f"/v1/accounts/{account_id}/purchases", content=big_chunks(), headers=headers)
    assert_problem(r, 413, "payload_too_large")
    api.settle()
    assert api.client.get(f"/v1/accounts/{account_id}/ledger", headers=auth()).json()["items"] == []


def test_a_body_of_exactly_1_mib_is_not_413(api: Api) -> None:
    prefix, suffix = b'{"verification_phone": "13800138000", "name": "', b'"}'
    padded = prefix + b"y" * (MIB - len(prefix) - len(suffix)) + suffix
    assert len(padded) == MIB
    r = api.client.post(
        "/v1/accounts", content=padded, headers={**auth(), "Content-Type": "application/json"}
    )
    assert r.status_code == 422, r.text  # too long a name, but read and judged
    assert r.json()["code"] == "validation_error"


def test_unknown_route_is_404_problem_json(api: Api) -> None:
    for method in ("GET", "POST"):
        r = api.client.request(method, "/v1/no-such-thing", headers=auth())
        assert_problem(r, 404, "not_found")
        assert r.headers["content-type"] == PROBLEM_JSON


def test_wrong_method_is_405_problem_json(api: Api) -> None:
    r = api.client.delete("/v1/health", headers=auth())
    assert_problem(r, 405, "method_not_allowed")


# -- the request's shape (issue 15): malformed JSON, a body that is not JSON ----------------


def test_malformed_json_is_invalid_json_with_where_it_broke(api: Api) -> None:
    body = '{"name": "花店", "verification_phone": 13800138000,}'
    r = api.client.post("/v1/accounts", content=body.encode(),
                        headers=auth() | {"Content-Type": "application/json"})  # fmt: skip
    problem = assert_problem(r, 400, "invalid_json")
    (error,) = problem["errors"]
    assert (error["field"], error["code"]) == ("body", "invalid_json")
    assert isinstance(error["position"], int) and 0 < error["position"] <= len(body)
    assert f"character {error['position']}" in problem["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_415(api: Api, content_type: str) -> None:
    r = api.client.post("/v1/accounts", content=b'{"name": "x"}',
                        headers=auth() | {"Content-Type": content_type})  # fmt: skip
    problem = assert_problem(r, 415, "unsupported_media_type")
    assert problem["errors"][0]["field"] == "body"
    assert content_type in problem["errors"][0]["message"]


def test_a_json_body_that_is_not_an_object_is_still_422(api: Api) -> None:
    r = api.client.post("/v1/accounts", json=[1, 2], headers=auth())
    assert assert_problem(r, 422, "validation_error")["errors"][0]["field"] == "body"

"""What an operator meets on a bad night, through HTTP: no stuck keys, no 500s, no wrong roles.

From a fault-injection trial: a command that committed could answer 500 (its idempotency
record failed to save) and its key then stayed unusable; leases ran on the simulated clock,
which stands still; huge offsets, times before year 1 and huge clock jumps were 500s; the
operator's token was accepted on the carrier's endpoints.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from smsplat.adapters.idempotency import IdempotencyStore

from tests.e2e.helpers import assert_problem, auth, balance, ledger
from tests.e2e.sending_helpers import ORDINARY, funded_account
from tests.support import CARRIER_TOKEN, OPERATOR_TOKEN, Api
from tests.timing import wait_until


class CompletionFails:
    """The idempotency store's ``complete`` fails (a database restart just after the command
    committed), the given number of times."""

    def __init__(self, store: IdempotencyStore, times: int) -> None:
        self.store = store
        self.left = times
        self.original = store.complete

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.left > 0:
            self.left -= 1
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        self.original(*args, **kwargs)


def purchase(api: Api, account: str, key: str, idem: str) -> Any:
    return api.client.post(
        f"/v1/accounts/{account}/purchases",
        json={"package_size": 1000},
        headers={**auth(key), "Idempotency-Key": idem},
    )


def test_a_committed_purchase_answers_its_result_when_its_record_fails_to_save(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, key = funded_account(api, size=0)
    store = api.container.idempotency
    monkeypatch.setattr(store, "complete", CompletionFails(store, 1))
    first = purchase(api, account, key, "order-1")
    assert first.status_code == 201, first.text  # the purchase committed: say so, not 500
    # the record is saved a moment later; the retry replays it, buying nothing more
    assert wait_until(lambda: purchase(api, account, key, "order-1").status_code == 201)
    again = purchase(api, account, key, "order-1")
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["purchase_id"] == first.json()["purchase_id"]
    api.settle()
    assert balance(api, account)["purchased_total"] == 1000


def test_a_key_left_running_by_a_crash_is_usable_once_its_wall_clock_lease_ends(
    api: Api,
) -> None:
    """The simulated clock stands still; the lease runs on real time all the same, and the
    retry then finds the purchase already made and answers as the first time would have."""
    account, key = funded_account(api, size=0)
    store = api.container.idempotency
    store.lease_seconds = 1.0
    first = purchase(api, account, key, "order-2")
    assert first.status_code == 201
    # what a crash between the commit and the record leaves: the key still running
    with api.container.db.transaction() as tx:
        tx.execute("UPDATE idempotency_keys SET state = 'running', status_code = NULL, body = NULL")
    blocked = purchase(api, account, key, "order-2")
    assert_problem(blocked, 409, "idempotency_key_in_use")
    assert int(blocked.headers["Retry-After"]) >= 1
    assert wait_until(lambda: purchase(api, account, key, "order-2").status_code == 201, 60)
    again = purchase(api, account, key, "order-2")
    assert again.json()["purchase_id"] == first.json()["purchase_id"]
    api.settle()
    assert balance(api, account)["purchased_total"] == 1000  # bought once


@pytest.mark.parametrize(
    "path",
    [
        "/v1/accounts/{a}/sends",
        "/v1/accounts/{a}/templates",
        "/v1/accounts/{a}/customers",
        "/v1/accounts/{a}/opt-outs",
        "/v1/review/queue",
    ],
)
def test_an_offset_past_its_range_is_422_not_500(api: Api, path: str) -> None:
    account, _ = funded_account(api, size=0)
    for offset in (2**63, 10**30, -1):
        r = api.client.get(path.format(a=account), params={"offset": offset}, headers=auth())
        assert_problem(r, 422, "validation_error")
    assert api.client.get(path.format(a=account), params={"offset": 5}, headers=auth()).is_success


def test_cursors_past_their_range_are_422_not_500(api: Api) -> None:
    account, _ = funded_account(api, size=0)
    for path in (f"/v1/accounts/{account}/ledger", f"/v1/sends/{account}/messages"):
        r = api.client.get(path, params={"cursor": 2**63}, headers=auth())
        assert_problem(r, 422, "validation_error")


def test_times_out_of_range_are_refused_not_500(api: Api) -> None:
    account, _ = funded_account(api, size=0)
    year_one = {"phone": ORDINARY[0], "text": "TD", "at": "0001-01-01T00:00:00"}
    r = api.client.post(
        "/v1/carrier/replies", headers=auth(CARRIER_TOKEN), json={"replies": [year_one]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["results"][0] == {"index": 0, "outcome": "rejected",
                                      "reason": "validation_error", "accounts": []}  # fmt: skip
    for as_of in ("0001-01-01T00:00:00", "9999-12-31T23:59:59"):
        r = api.client.get(f"/v1/accounts/{account}/balance", params={"as_of": as_of},
                           headers=auth())  # fmt: skip
        assert_problem(r, 422, "validation_error")


def test_the_simulated_clock_refuses_jumps_past_its_horizon(api: Api) -> None:
    bodies: list[dict[str, object]] = [
        {"advance_seconds": 1e12},
        {"advance_seconds": 400 * 86_400},
        {"now": "9999-12-31T00:00:00+08:00"},
    ]
    for body in bodies:
        r = api.client.post("/v1/sim/clock", json=body, headers=auth())
        assert_problem(r, 422, "validation_error")
    assert api.client.post("/v1/sim/clock", json={"advance_seconds": 60}, headers=auth()).is_success


def test_only_the_carrier_token_posts_receipts_and_replies(api: Api) -> None:
    calls: list[tuple[str, dict[str, object]]] = [
        ("/v1/carrier/receipts", {"receipts": []}),
        ("/v1/carrier/replies", {"replies": []}),
    ]
    for path, body in calls:
        assert_problem(api.client.post(path, json=body, headers=auth()), 403, "forbidden")
        assert api.client.post(path, json=body, headers=auth(CARRIER_TOKEN)).status_code == 200


def test_an_unexpected_error_keeps_the_connection_and_answers_problem_json(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.container.send_views, "dashboard", boom)
    account, _ = funded_account(api, size=0)
    r = api.client.get(f"/v1/accounts/{account}/dashboard", headers=auth())
    assert_problem(r, 500, "internal_error")
    assert api.client.get("/v1/health").status_code == 200


def lose_the_record(api: Api, idem: str) -> None:
    """What a crash between a command's commit and its record leaves: the key running."""
    with api.container.db.transaction() as tx:
        tx.execute(
            "UPDATE idempotency_keys SET state = 'running', status_code = NULL, body = NULL "
            "WHERE key = %s",
            (idem,),
        )
        assert tx.rowcount == 1


def retried(api: Api, method: str, path: str, token: str, idem: str, **kwargs: Any) -> Any:
    """The request retried with the same key until its lease (1 s here) let it run."""
    headers = {**auth(token), "Idempotency-Key": idem}
    answer: list[Any] = []

    def attempt() -> bool:
        answer[:] = [api.client.request(method, path, headers=headers, **kwargs)]
        return bool(answer[0].status_code != 409 or "in_use" not in answer[0].text)

    assert wait_until(attempt, 60)
    return answer[0]


def test_retries_of_state_changes_whose_answer_was_lost_answer_as_the_first_time(
    api: Api,
) -> None:
    """Cancel, reschedule, approve, reject, delete: the retry finds its own effect (its events
    carry the key's request id) and answers 200 as the first time, not 409."""
    api.container.idempotency.lease_seconds = 1.0
    account, key = funded_account(api)
    later = "2026-03-05T10:00:00+08:00"
    r = api.client.post(f"/v1/accounts/{account}/templates", headers=auth(key),
                        json={"type": "mass", "kind": "notice", "signature": "花店",
                              "content": "会员日到店有礼。"})  # fmt: skip
    template = r.json()["template_id"]
    first = api.client.post(f"/v1/templates/{template}/approve",
                            headers={**auth(), "Idempotency-Key": "approve-1"})  # fmt: skip
    assert first.status_code == 200
    lose_the_record(api, "approve-1")
    again = retried(api, "POST", f"/v1/templates/{template}/approve", OPERATOR_TOKEN, "approve-1")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "approved"

    r = api.client.post(f"/v1/accounts/{account}/sends", headers=auth(key),
                        json={"template_id": template, "recipients": ORDINARY[:1],
                              "scheduled_at": later})  # fmt: skip
    send_id = r.json()["send_id"]
    moved = api.client.patch(f"/v1/sends/{send_id}", json={"scheduled_at": "2026-03-06T10:00:00"},
                             headers={**auth(key), "Idempotency-Key": "move-1"})  # fmt: skip
    assert moved.status_code == 200
    lose_the_record(api, "move-1")
    again = retried(api, "PATCH", f"/v1/sends/{send_id}", key, "move-1",
                    json={"scheduled_at": "2026-03-06T10:00:00"})  # fmt: skip
    assert again.status_code == 200, again.text
    cancelled = api.client.post(f"/v1/sends/{send_id}/cancel",
                                headers={**auth(key), "Idempotency-Key": "cancel-1"})  # fmt: skip
    assert cancelled.status_code == 200
    lose_the_record(api, "cancel-1")
    again = retried(api, "POST", f"/v1/sends/{send_id}/cancel", key, "cancel-1")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "cancelled"
    api.settle()
    kinds = [e["kind"] for e in ledger(api, account)]
    assert kinds == ["purchase", "lock", "release"]  # released once
    # without a key, a second cancel is a new request: refused as ever
    assert_problem(api.client.post(f"/v1/sends/{send_id}/cancel", headers=auth(key)), 409,
                   "not_cancellable")  # fmt: skip


def test_a_retried_account_creation_whose_answer_was_lost_gets_a_working_key(api: Api) -> None:
    api.container.idempotency.lease_seconds = 1.0
    body = {"name": "花店", "verification_phone": "13800138000"}
    first = api.client.post("/v1/accounts", json=body,
                            headers={**auth(), "Idempotency-Key": "shop-1"})  # fmt: skip
    assert first.status_code == 201
    lose_the_record(api, "shop-1")
    again = retried(api, "POST", "/v1/accounts", OPERATOR_TOKEN, "shop-1", json=body)
    assert again.status_code == 201, again.text
    assert again.json()["account_id"] == first.json()["account_id"]  # the same account
    account = again.json()["account_id"]
    new_key, lost_key = again.json()["api_key"], first.json()["api_key"]
    assert api.client.get(f"/v1/accounts/{account}/balance", headers=auth(new_key)).is_success
    # the first key never reached the client: it no longer works
    r = api.client.get(f"/v1/accounts/{account}/balance", headers=auth(lost_key))
    assert r.status_code == 401

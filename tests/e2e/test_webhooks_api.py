"""Webhooks through HTTP against a real receiver on loopback that verifies every delivery's
signature with the ``standardwebhooks`` package (contract: Webhooks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from smsplat.adapters.clock import SimulatedClock
from smsplat.api.app import create_app

from tests.conftest import make_container
from tests.e2e.helpers import assert_problem, auth
from tests.e2e.sending_helpers import (
    FAILS,
    ORDINARY,
    advance,
    carrier_record,
    funded_account,
    mass_template,
)
from tests.support import CARRIER_TOKEN, Api
from tests.timing import wait_until
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.postgres


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def hooks_api(pg_url: str, clock: SimulatedClock) -> Iterator[Api]:
    c = make_container(pg_url, clock, webhook_allow_private=True)
    try:
        with TestClient(create_app(c)) as client:
            yield Api(client, c)
    finally:
        c.close()


def create(api: Api, account_id: str, key: str, url: str, events: list[str]) -> dict[str, Any]:
    r = api.client.post(f"/v1/accounts/{account_id}/webhooks", headers=auth(key),
                        json={"url": url, "events": events})  # fmt: skip
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_sends_life_arrives_signed_and_in_order_per_message(
    hooks_api: Api, receiver: Receiver
) -> None:
    api = hooks_api
    account_id, key = funded_account(api)
    hook = create(api, account_id, key, receiver.url, ["message.status", "send.status"])
    listed = api.client.get(f"/v1/accounts/{account_id}/webhooks", headers=auth(key)).json()
    assert hook["secret"].startswith("whsec_") and "secret" not in json.dumps(listed)
    receiver.secrets = [hook["secret"]]
    template = mass_template(api, account_id, key)
    numbers = [*ORDINARY, FAILS]
    r = api.client.post(f"/v1/accounts/{account_id}/sends", headers=auth(key),
                        json={"template_id": template, "recipients": numbers})  # fmt: skip
    assert r.status_code == 202, r.text
    advance(api, 10)  # every receipt is due (3 s delivered, 5 s failed)
    assert wait_until(lambda: any(s["status"] == "completed" for s in receiver.of("send.status")),
                      timeout=60)  # fmt: skip
    by_message: dict[str, list[str]] = {}
    for data in receiver.of("message.status"):
        by_message.setdefault(data["phone"], []).append(data["status"])
    assert by_message == {**{n: ["sending", "success"] for n in ORDINARY},
                          FAILS: ["sending", "failed"]}  # fmt: skip
    assert [s["status"] for s in receiver.of("send.status")] == [
        "submitting", "submitted", "completed"]  # fmt: skip
    assert receiver.unverified == 0
    ids = [i for i, _ in receiver.verified]
    assert len(set(ids)) == len(ids)  # each delivered once here: a receiver that is up


def test_a_receiver_down_for_an_hour_gets_every_event_once_up(
    hooks_api: Api, receiver: Receiver
) -> None:
    api = hooks_api
    account_id, key = funded_account(api)
    hook = create(api, account_id, key, receiver.url, ["message.status"])
    receiver.secrets, receiver.status = [hook["secret"]], 503
    template = mass_template(api, account_id, key)
    r = api.client.post(f"/v1/accounts/{account_id}/sends", headers=auth(key),
                        json={"template_id": template, "recipients": ORDINARY})  # fmt: skip
    assert r.status_code == 202
    for _ in range(12):  # an hour of service time, five minutes at a time
        advance(api, 300)
    failed = api.client.get(f"/v1/accounts/{account_id}/webhook-deliveries?status=pending",
                            headers=auth(key)).json()["items"]  # fmt: skip
    tried = [d for d in failed if d["attempts"]]  # each message's first; its second waits
    assert len(tried) == len(ORDINARY) and len(failed) == 2 * len(ORDINARY)
    assert all(d["attempts"] == 4 and d["last_status_code"] == 503 for d in tried)  # 0, 5 s,
    assert all(len(d["tries"]) == 4 for d in tried)  # 5 min, 30 min: an hour of 503s
    metrics = api.client.get("/metrics").text
    assert "smsplat_webhook_backlog 8.0" in metrics
    age = next(float(line.split()[-1]) for line in metrics.splitlines()
               if line.startswith("smsplat_webhook_oldest_undelivered_seconds"))  # fmt: skip
    assert age >= 3600
    receiver.status = 200
    advance(api, 3 * 3600)  # past the next retry (2 h after the one at 35 min)
    assert wait_until(lambda: len(receiver.of("message.status")) == 2 * len(ORDINARY), 60)
    assert receiver.unverified == 0
    assert wait_until(lambda: 'smsplat_webhook_deliveries{status="delivered"} 8.0'
                      in api.client.get("/metrics").text, 60)  # fmt: skip


def test_a_recipients_reply_arrives_signed_once_opt_out_or_not(
    hooks_api: Api, receiver: Receiver
) -> None:
    api = hooks_api
    account_id, key = funded_account(api)
    hook = create(api, account_id, key, receiver.url, ["reply.received"])
    receiver.secrets = [hook["secret"]]
    replies = [
        {"phone": ORDINARY[0], "text": "请问几点开门？", "account_id": account_id,
         "reply_id": "mo-1"},
        {"phone": ORDINARY[1], "text": "退订", "account_id": account_id, "reply_id": "mo-2"},
    ]  # fmt: skip
    headers = {"Authorization": f"Bearer {CARRIER_TOKEN}"}
    for _ in range(2):  # a carrier that repeats itself
        r = api.client.post("/v1/carrier/replies", headers=headers, json={"replies": replies})
        assert r.status_code == 200, r.text
    assert wait_until(lambda: len(receiver.of("reply.received")) == 2, timeout=60)
    told = sorted(receiver.of("reply.received"), key=lambda d: d["phone"])
    assert [(d["phone"], d["text"], d["opt_out"]) for d in told] == [
        (ORDINARY[0], "请问几点开门？", False), (ORDINARY[1], "退订", True),
    ]  # fmt: skip
    assert receiver.unverified == 0
    advance(api, 10)  # nothing more comes
    assert len(receiver.of("reply.received")) == 2


def test_an_endpoint_failing_for_5_days_is_disabled_and_the_account_told(
    hooks_api: Api, receiver: Receiver
) -> None:
    api = hooks_api
    account_id, key = funded_account(api, phone="13800138077")
    hook = create(api, account_id, key, receiver.url, ["send.status"])
    receiver.status = 503
    template = mass_template(api, account_id, key)
    url = f"/v1/webhooks/{hook['webhook_id']}"
    for day in range(6):  # a send a day, each failing on every retry due
        r = api.client.post(f"/v1/accounts/{account_id}/sends", headers=auth(key),
                            json={"template_id": template, "recipients": ORDINARY[:1]})  # fmt: skip
        assert r.status_code == 202, r.text
        for _ in range(6):
            advance(api, 4 * 3600)
        status = api.client.get(url, headers=auth(key)).json()["status"]
        assert status == ("active" if day < 4 else status)  # 4 days of failures: still on
    got = api.client.get(url, headers=auth(key)).json()
    assert (got["status"], got["disabled_reason"]) == ("disabled", "failing")
    notice = carrier_record(api, f"alert.webhook-disabled.{hook['webhook_id']}")
    assert notice is not None and notice[0] in (None, "13800138077")
    assert "127.0.0.1" in notice[1] and "已停用" in notice[1]


def test_410_disables_the_endpoint(hooks_api: Api, receiver: Receiver) -> None:
    api = hooks_api
    account_id, key = funded_account(api)
    hook = create(api, account_id, key, receiver.url, ["send.status"])
    receiver.status = 410
    template = mass_template(api, account_id, key)
    api.client.post(f"/v1/accounts/{account_id}/sends", headers=auth(key),
                    json={"template_id": template, "recipients": ORDINARY[:1]})  # fmt: skip

    def disabled() -> bool:
        got = api.client.get(f"/v1/webhooks/{hook['webhook_id']}", headers=auth(key)).json()
        return bool(got["status"] == "disabled" and got["disabled_reason"] == "gone")

    assert wait_until(disabled, timeout=60)


def test_during_a_rotation_both_signatures_verify(hooks_api: Api, receiver: Receiver) -> None:
    api = hooks_api
    account_id, key = funded_account(api)
    old = create(api, account_id, key, receiver.url, ["send.status"])
    r = api.client.post(f"/v1/webhooks/{old['webhook_id']}/rotate-secret", headers=auth(key))
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    receiver.secrets = [old["secret"]]  # a receiver that has not switched yet
    template = mass_template(api, account_id, key)
    api.client.post(f"/v1/accounts/{account_id}/sends", headers=auth(key),
                    json={"template_id": template, "recipients": ORDINARY[:1]})  # fmt: skip
    assert wait_until(lambda: len(receiver.of("send.status")) >= 1, timeout=60)
    receiver.secrets = [new]  # and one that has
    advance(api, 10)
    assert wait_until(lambda: len(receiver.of("send.status")) >= 2, timeout=60)
    assert receiver.unverified == 0 and set(receiver.signatures) == {2}


def test_private_addresses_are_refused_unless_allowed(api: Api) -> None:
    account_id, key = funded_account(api)
    refused = {
        "https://127.0.0.1/hook": "private_address",  # loopback
        "https://10.1.2.3/hook": "private_address",  # private
        "https://169.254.169.254/x": "private_address",  # link-local (cloud metadata)
        "https://localhost/hook": "private_address",  # a name that resolves to loopback
        "https://[::1]/hook": "private_address",
        "http://example.com/hook": "invalid_url",  # https only
    }
    for url, code in refused.items():
        r = api.client.post(f"/v1/accounts/{account_id}/webhooks", headers=auth(key),
                            json={"url": url, "events": ["send.status"]})  # fmt: skip
        body = assert_problem(r, 422, "validation_error")
        assert body["errors"][0]["code"] == code, (url, body)


def test_another_accounts_webhooks_and_deliveries_are_not_found(
    hooks_api: Api, receiver: Receiver
) -> None:
    api = hooks_api
    mine, my_key = funded_account(api)
    _, other_key = funded_account(api, phone="13900139000")
    hook = create(api, mine, my_key, receiver.url, ["send.status"])
    wid = hook["webhook_id"]
    for method, path in [("GET", f"/v1/webhooks/{wid}"), ("DELETE", f"/v1/webhooks/{wid}"),
                         ("POST", f"/v1/webhooks/{wid}/rotate-secret"),
                         ("GET", f"/v1/accounts/{mine}/webhooks"),
                         ("GET", f"/v1/accounts/{mine}/webhook-deliveries"),
                         ("POST", "/v1/webhook-deliveries/msg_nothing/retry")]:  # fmt: skip
        assert_problem(api.client.request(method, path, headers=auth(other_key)), 404,
                       "not_found")  # fmt: skip
    assert api.client.get(f"/v1/webhooks/{wid}", headers=auth(my_key)).status_code == 200
    assert api.client.delete(f"/v1/webhooks/{wid}", headers=auth(my_key)).status_code == 204
    assert api.client.get(f"/v1/webhooks/{wid}", headers=auth(my_key)).status_code == 404


@pytest.fixture
def impatient_api(pg_url: str, clock: SimulatedClock) -> Iterator[Api]:
    c = make_container(pg_url, clock, webhook_allow_private=True, webhook_timeout_seconds=2.0)
    try:
        with TestClient(create_app(c)) as client:
            yield Api(client, c)
    finally:
        c.close()


def deliveries(api: Api, account_id: str, key: str) -> list[dict[str, Any]]:
    r = api.client.get(f"/v1/accounts/{account_id}/webhook-deliveries", headers=auth(key))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_a_slow_receiver_times_out_and_is_retried_on_schedule(impatient_api: Api) -> None:
    api, receiver = impatient_api, Receiver()
    receiver.hold()  # answers nothing until released: longer than the 2 s timeout
    try:
        account_id, key = funded_account(api)
        hook = create(api, account_id, key, receiver.url, ["send.status"])
        receiver.secrets = [hook["secret"]]
        template = mass_template(api, account_id, key)
        api.client.post(f"/v1/accounts/{account_id}/sends", headers=auth(key),
                        json={"template_id": template, "recipients": ORDINARY[:1]})  # fmt: skip
        assert wait_until(lambda: any(d["last_error"] == "timeout"
                                      for d in deliveries(api, account_id, key)), 60)  # fmt: skip
        first = next(d for d in deliveries(api, account_id, key) if d["last_error"])
        assert first["status"] == "pending" and first["attempts"] == 1
        receiver.release()
        advance(api, 4)  # before the first retry (5 s, stretched by 0.9–1.1): not yet
        assert next(d for d in deliveries(api, account_id, key)
                    if d["delivery_id"] == first["delivery_id"])["attempts"] == 1  # fmt: skip
        advance(api, 2)
        assert wait_until(lambda: next(d for d in deliveries(api, account_id, key)
                          if d["delivery_id"] == first["delivery_id"])["status"] == "delivered",
                          60)  # fmt: skip
    finally:
        receiver.server.shutdown()


def test_a_redirect_is_not_followed(hooks_api: Api, receiver: Receiver) -> None:
    api = hooks_api
    account_id, key = funded_account(api)
    hook = create(api, account_id, key, receiver.url, ["send.status"])
    receiver.secrets, receiver.status = [hook["secret"]], 302
    template = mass_template(api, account_id, key)
    api.client.post(f"/v1/accounts/{account_id}/sends", headers=auth(key),
                    json={"template_id": template, "recipients": ORDINARY[:1]})  # fmt: skip
    assert wait_until(lambda: any(d["last_error"] == "redirect_not_followed"
                                  for d in deliveries(api, account_id, key)), 60)  # fmt: skip
    assert all(d["status"] == "pending" for d in deliveries(api, account_id, key))

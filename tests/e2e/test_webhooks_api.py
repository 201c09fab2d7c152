"""Webhooks through HTTP against a real receiver on loopback that verifies every delivery's
signature with the ``standardwebhooks`` package (contract: Webhooks)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from smsplat.adapters.clock import SimulatedClock
from smsplat.api.app import create_app
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.conftest import make_container
from tests.e2e.helpers import assert_problem, auth
from tests.e2e.sending_helpers import FAILS, ORDINARY, advance, funded_account, mass_template
from tests.support import Api
from tests.timing import wait_until

pytestmark = pytest.mark.postgres


class Receiver:
    """A webhook receiver: answers ``status`` (settable), verifies with ``secrets`` and keeps
    every verified delivery (and counts the ones that failed verification)."""

    def __init__(self) -> None:
        self.status = 200
        self.secrets: list[str] = []
        self.verified: list[tuple[str, dict[str, Any]]] = []  # (webhook-id, body)
        self.unverified = 0
        self.signatures: list[int] = []  # how many signatures each delivery carried
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.take(body, headers)
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            if self.status >= 300:
                return  # down: nothing is taken
            for secret in self.secrets:
                try:
                    Webhook(secret).verify(body, headers)
                except WebhookVerificationError:
                    continue
                self.verified.append((headers["webhook-id"], json.loads(body)))
                self.signatures.append(len(headers["webhook-signature"].split(" ")))
                return
            self.unverified += 1

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [b["data"] for _, b in self.verified if b["type"] == kind]


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
    refused = (
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/x",
        "https://localhost/hook",
        "https://[::1]/hook",
        "http://example.com/hook",
    )
    for url in refused:
        r = api.client.post(f"/v1/accounts/{account_id}/webhooks", headers=auth(key),
                            json={"url": url, "events": ["send.status"]})  # fmt: skip
        body = assert_problem(r, 422, "validation_error")
        assert body["errors"][0]["code"] in ("private_address", "invalid_url"), (url, body)


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

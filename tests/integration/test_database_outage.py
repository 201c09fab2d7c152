"""A database outage: fail fast, say so, recover alone (a real ``smsplat serve`` on a private
PostgreSQL cluster that the tests stop and start).

The trial found requests hanging 29–30 s while PostgreSQL was stopped, and ``/v1/health``
hanging too, then answering 200. Now: commands answer 503 ``service_unavailable`` with
``Retry-After`` within seconds and change nothing; health answers at once and names the
database; when PostgreSQL is back the service works again without a restart, and every
command retried with its key happened exactly once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any
from uuid import UUID

import httpx
import pytest
from smsplat.adapters.clock import SimulatedClock
from smsplat.domain.quota import QuotaPool, quota_pool_id
from smsplat.infra.bootstrap import build
from smsplat.projections.ledger_audit import audit_ledger

from tests.conftest import settings_for
from tests.pg_cluster import PrivateCluster, private_cluster
from tests.service_process import ServiceProcess
from tests.support import OPERATOR_TOKEN
from tests.timing import wait_until

FAST = {"SMS_IDEMPOTENCY_LEASE_SECONDS": "2", "SMS_DATABASE_TIMEOUT_SECONDS": "2"}

pytestmark = pytest.mark.slow


def _auth(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    return headers | ({"Idempotency-Key": key} if key else {})


def _account(http: httpx.Client) -> tuple[str, str]:
    r = http.post("/v1/accounts", json={"name": "花店", "verification_phone": "13800138000"},
                  headers=_auth(OPERATOR_TOKEN))  # fmt: skip
    assert r.status_code == 201, r.text
    account, key = r.json()["account_id"], r.json()["api_key"]
    r = http.post(f"/v1/accounts/{account}/products", json={"product": "site"},
                  headers=_auth(key))  # fmt: skip
    assert r.status_code == 200, r.text
    return account, key


def _purchases(url: str, account: str) -> list[str]:
    """The purchase ids stored for the account, read from the event store itself."""
    c = build(settings_for(url), SimulatedClock())
    try:
        return [
            e.reference
            for e in c.quota.events.get(quota_pool_id(UUID(account)))
            if isinstance(e, QuotaPool.PackagePurchased)
        ]
    finally:
        c.close()


def _a_message_goes_out_and_settles(http: httpx.Client, account: str, key: str) -> None:
    register = {"type": "business", "scenario": "register", "signature": "花店"}
    r = http.post(f"/v1/accounts/{account}/templates", headers=_auth(key), json=register)
    template = r.json()["template_id"]
    assert http.post(f"/v1/templates/{template}/approve",
                     headers=_auth(OPERATOR_TOKEN)).status_code == 200  # fmt: skip
    code = {"template_id": template, "phone": "13812345678", "variables": {"code": "1234"}}
    r = http.post(f"/v1/accounts/{account}/messages", headers=_auth(key), json=code)
    assert r.status_code == 202, r.text
    message = r.json()["message_id"]

    def delivered() -> bool:
        http.post("/v1/sim/clock", json={"advance_seconds": 5}, headers=_auth(OPERATOR_TOKEN))
        got = http.get(f"/v1/messages/{message}", headers=_auth(key))
        return got.status_code == 200 and got.json()["status"] == "success"

    assert wait_until(delivered)


@pytest.fixture
def cluster() -> Any:
    with private_cluster() as running:
        yield running


def test_an_outage_is_said_at_once_and_the_service_recovers_alone(
    cluster: PrivateCluster,
) -> None:
    service = ServiceProcess(cluster.url, **FAST).start()
    try:
        with httpx.Client(base_url=service.base, timeout=60) as http:
            account, key = _account(http)
            cluster.stop()
            started = time.monotonic()
            health = http.get("/v1/health")
            assert time.monotonic() - started < 10
            assert health.status_code == 503
            assert health.json()["checks"]["database"]["status"] == "down"
            assert http.get("/v1/health/live").status_code == 200

            started = time.monotonic()
            r = http.post(f"/v1/accounts/{account}/purchases", json={"package_size": 1000},
                          headers=_auth(key, "order-1"))  # fmt: skip
            took = time.monotonic() - started
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "service_unavailable"
            assert int(r.headers["Retry-After"]) > 0
            assert took < 15, f"the refusal took {took:.1f} s"

            cluster.start()
            assert wait_until(lambda: http.get("/v1/health").status_code == 200)

            def bought() -> bool:
                answer = http.post(f"/v1/accounts/{account}/purchases",
                                   json={"package_size": 1000},
                                   headers=_auth(key, "order-1"))  # fmt: skip
                return answer.status_code == 201

            assert wait_until(bought)  # the same key, once its claim's lease has ended
            _a_message_goes_out_and_settles(http, account, key)  # the loops resumed alone
        assert len(_purchases(cluster.url, account)) == 1
    finally:
        service.stop()


def test_a_restart_under_load_applies_every_command_exactly_once(cluster: PrivateCluster) -> None:
    """Eight clients buy packages, each request with its own key, retried with that key
    until it is answered 201; PostgreSQL restarts in the middle. Afterwards every key bought
    exactly one package, no key is stuck, health reported the outage, and sending works."""
    service = ServiceProcess(cluster.url, **FAST).start()
    outcomes: Counter[str] = Counter()
    answered: dict[str, int] = {}
    health_seen: set[int] = set()
    stop = threading.Event()
    outage = threading.Event()  # set once PostgreSQL is down: the clients go on from there
    lock = threading.Lock()
    try:
        with httpx.Client(base_url=service.base, timeout=60) as http:
            accounts = [_account(http) for _ in range(8)]

        def client(n: int) -> None:
            account, key = accounts[n]
            with httpx.Client(base_url=service.base, timeout=30) as http:
                for i in range(12):
                    if i == 2:  # two answered each, then the rest meet the outage for sure
                        outage.wait(timeout=300)
                    idem = f"c{n}-order-{i}"
                    deadline = time.monotonic() + 180
                    while True:
                        try:
                            r = http.post(f"/v1/accounts/{account}/purchases",
                                          json={"package_size": 1000},
                                          headers=_auth(key, idem))  # fmt: skip
                            status = r.status_code
                        except httpx.HTTPError:
                            status = 0
                        with lock:
                            outcomes[str(status)] += 1
                        if status == 201:
                            answered[idem] = status
                            break
                        assert time.monotonic() < deadline, f"{idem} never succeeded"
                        time.sleep(0.2)

        def watch_health() -> None:
            with httpx.Client(base_url=service.base, timeout=30) as http:
                while not stop.is_set():
                    try:
                        health_seen.add(http.get("/v1/health").status_code)
                    except httpx.HTTPError:
                        health_seen.add(0)
                    stop.wait(0.2)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        watcher = threading.Thread(target=watch_health)
        for t in [*threads, watcher]:
            t.start()
        assert wait_until(lambda: len(answered) >= 16)  # under way
        cluster.stop()
        outage.set()
        # The outage lasts until health has said so and a client has met it (they keep
        # trying meanwhile); a fixed pause could end before a busy machine got to either.
        assert wait_until(
            lambda: 503 in health_seen and outcomes["503"] + outcomes["0"] > 0, timeout=120
        ), (health_seen, outcomes)
        cluster.start()
        for t in threads:
            t.join(300)
        stop.set()
        watcher.join(60)
        assert len(answered) == 8 * 12
        assert 503 in health_seen and 200 in health_seen
        assert outcomes["503"] + outcomes["0"] > 0, outcomes  # the outage was met
        print(f"\nrestart under load: {dict(outcomes)} answers, health {sorted(health_seen)}")

        with httpx.Client(base_url=service.base, timeout=60) as http:
            for n, (account, key) in enumerate(accounts):  # no key stuck: each replays
                for i in range(12):
                    r = http.post(f"/v1/accounts/{account}/purchases",
                                  json={"package_size": 1000},
                                  headers=_auth(key, f"c{n}-order-{i}"))  # fmt: skip
                    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed")
        for n, (account, _) in enumerate(accounts):
            bought = _purchases(cluster.url, account)
            assert len(bought) == 12, (n, len(bought))  # each key exactly once
            assert len(set(bought)) == 12
    finally:
        service.stop()
    c = build(settings_for(cluster.url), SimulatedClock())
    try:
        c.read_models.catch_up()
        report = audit_ledger(c.quota, c.ledger, c.send_views, pool_only=False)
        assert report.ok, report.problems
    finally:
        c.close()

"""``smsplat serve`` killed with SIGKILL during a request: the retry with the same key completes.

A 10,000-recipient send is posted with an Idempotency-Key and the service is killed while it
runs: before the send was stored, after it was stored but before its response was recorded, or
after (which one is the machine's call; each round records which). A new process is started and
the client retries with the same key until it is answered: the send exists exactly once,
charged once, whatever the kill interrupted.
"""

from __future__ import annotations

import random
import threading
import time
from functools import partial
from typing import Any
from uuid import UUID

import httpx
import pytest
from smsplat.adapters.clock import SimulatedClock
from smsplat.domain.quota import QuotaPool, quota_pool_id
from smsplat.infra.bootstrap import build

from tests.conftest import settings_for
from tests.service_process import ServiceProcess
from tests.support import OPERATOR_TOKEN
from tests.timing import wait_until

ROUNDS = 4
RECIPIENTS = 10_000


def _auth(token: str, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} | ({"Idempotency-Key": key} if key else {})


def _charges(url: str, account: str) -> list[str]:
    c = build(settings_for(url), SimulatedClock())
    try:
        return [
            e.reference
            for e in c.quota.events.get(quota_pool_id(UUID(account)))
            if isinstance(e, QuotaPool.UnitsCharged)
        ]
    finally:
        c.close()


def _post(base: str, account: str, key: str, body: dict[str, Any], idem: str,
          first: list[Any]) -> None:  # fmt: skip
    try:
        with httpx.Client(base_url=base, timeout=120) as http:
            r = http.post(f"/v1/accounts/{account}/sends", json=body, headers=_auth(key, idem))
            first.append(r.status_code)
    except httpx.HTTPError:
        first.append("cut")


def _answered(http: httpx.Client, account: str, key: str, body: dict[str, Any], idem: str,
              answers: list[Any]) -> bool:  # fmt: skip
    r = http.post(f"/v1/accounts/{account}/sends", json=body, headers=_auth(key, idem))
    answers[:] = [r]
    return r.status_code == 202


@pytest.mark.slow
def test_a_request_cut_by_sigkill_completes_when_retried_with_its_key(pg_url: str) -> None:
    settings = {"SMS_IDEMPOTENCY_LEASE_SECONDS": "2"}
    service = ServiceProcess(pg_url, **settings).start()
    rng = random.Random(5)
    try:
        with httpx.Client(base_url=service.base, timeout=120) as http:
            r = http.post("/v1/accounts", headers=_auth(OPERATOR_TOKEN),
                          json={"name": "花店", "verification_phone": "13800138000"})  # fmt: skip
            account, key = r.json()["account_id"], r.json()["api_key"]
            http.post(f"/v1/accounts/{account}/products", json={"product": "site"},
                      headers=_auth(key))  # fmt: skip
            for _ in range(4):
                http.post(f"/v1/accounts/{account}/purchases", json={"package_size": 10_000},
                          headers=_auth(key))  # fmt: skip
            notice = {"type": "mass", "kind": "notice", "signature": "花店",
                      "content": "会员日到店有礼。"}  # fmt: skip
            template = http.post(f"/v1/accounts/{account}/templates", json=notice,
                                 headers=_auth(key)).json()["template_id"]  # fmt: skip
            http.post(f"/v1/templates/{template}/approve", headers=_auth(OPERATOR_TOKEN))
        seen: list[str] = []
        for round_ in range(ROUNDS):
            idem = f"campaign-{round_}"
            numbers = [f"139{round_:02d}{n:06d}" for n in range(RECIPIENTS)]
            body = {"template_id": template, "recipients": numbers}
            first: list[Any] = []
            thread = threading.Thread(
                target=_post, args=(service.base, account, key, body, idem, first)
            )
            thread.start()
            time.sleep(rng.uniform(0.01, 0.4))  # somewhere in the request (or just after)
            service.kill()
            thread.join(120)
            seen.append(str(first[0]) if first else "cut")
            service = ServiceProcess(pg_url, **settings).start()
            with httpx.Client(base_url=service.base, timeout=120) as http:
                answers: list[Any] = []
                done = partial(_answered, http, account, key, body, idem, answers)
                assert wait_until(done), answers[0].text
                again = http.post(f"/v1/accounts/{account}/sends", json=body,
                                  headers=_auth(key, idem))  # fmt: skip
                assert again.json()["send_id"] == answers[0].json()["send_id"]
        charges = _charges(pg_url, account)
        assert len(charges) == ROUNDS, charges  # one charge per keyed send, whatever was cut
        assert len(set(charges)) == ROUNDS
        print(f"\nSIGKILL during a request: first answers {seen}; every retry completed")
    finally:
        service.stop()

"""Q7: carrier receipts posted concurrently settle every message exactly once.

A carrier posts receipts all day long, many at the same moment. Here 16 threads post `failed`
receipts for the 100 messages of one send, each message once, in random groupings, through a
real HTTP server on PostgreSQL; 20 rounds. Every round ends with 100 refunds, one per message,
and the per-message ledger verification is clean. (The trial that found the defect lost one
refund in 38 of 40 pairs: the losing save took the winner's refund for its own.)
"""

from __future__ import annotations

import random
import threading
from typing import Any
from uuid import UUID

import httpx
import pytest
from smsplat.domain.quota import QuotaPool, quota_pool_id
from smsplat.domain.sending import message_id
from smsplat.infra.bootstrap import Container
from smsplat.projections.ledger_audit import audit_ledger

from tests.conftest import make_container
from tests.live_server import live_server
from tests.support import CARRIER_TOKEN, OPERATOR_TOKEN

THREADS = 16
ROUNDS = 20
RECIPIENTS = 100


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _funded_account(http: httpx.Client) -> tuple[str, str, str]:
    """An account with 5,000 units and an approved mass notice; (account, key, template)."""
    r = http.post("/v1/accounts", json={"name": "花店", "verification_phone": "13800138000"},
                  headers=_auth(OPERATOR_TOKEN))  # fmt: skip
    assert r.status_code == 201, r.text
    account, key = r.json()["account_id"], r.json()["api_key"]
    r = http.post(f"/v1/accounts/{account}/products", json={"product": "site"}, headers=_auth(key))
    assert r.status_code == 200, r.text
    r = http.post(f"/v1/accounts/{account}/purchases", json={"package_size": 5000},
                  headers=_auth(key))  # fmt: skip
    assert r.status_code == 201, r.text
    notice = {"type": "mass", "kind": "notice", "signature": "花店", "content": "会员日到店有礼。"}
    r = http.post(f"/v1/accounts/{account}/templates", headers=_auth(key), json=notice)
    assert r.status_code == 201, r.text
    template = r.json()["template_id"]
    r = http.post(f"/v1/templates/{template}/approve", headers=_auth(OPERATOR_TOKEN))
    assert r.status_code == 200, r.text
    return account, key, template


def _groupings(ids: list[str], rng: random.Random) -> list[list[list[str]]]:
    """The ids shuffled into groups of 1 to 12, the groups dealt out to the threads."""
    shuffled = ids[:]
    rng.shuffle(shuffled)
    groups: list[list[str]] = []
    while shuffled:
        size = rng.randint(1, 12)
        groups.append(shuffled[:size])
        del shuffled[:size]
    per_thread: list[list[list[str]]] = [[] for _ in range(THREADS)]
    for n, group in enumerate(groups):
        per_thread[n % THREADS].append(group)
    return per_thread


def _post_all(base: str, groups: list[list[str]], start: threading.Barrier,
              answers: list[dict[str, Any]]) -> None:  # fmt: skip
    with httpx.Client(base_url=base, timeout=120) as http:
        start.wait()
        for group in groups:
            body = {"receipts": [{"message_id": m, "status": "failed",
                                  "at": "2026-03-02T09:00:04+08:00"} for m in group]}  # fmt: skip
            r = http.post("/v1/carrier/receipts", json=body, headers=_auth(CARRIER_TOKEN))
            assert r.status_code == 200, r.text
            answers.append(r.json())


def _refunds_of(c: Container, send_id: str) -> list[str]:
    """The references of the refund entries stored for ``send_id``'s messages (the events)."""
    account = c.quota.send(UUID(send_id)).account_id
    pool_id = quota_pool_id(UUID(account))
    return [
        e.reference
        for e in c.quota.events.get(pool_id)
        if isinstance(e, QuotaPool.UnitsRefunded) and send_id in e.reference
    ]


@pytest.mark.slow
def test_Q7_concurrent_failed_receipts_refund_every_message_once(pg_url: str) -> None:
    c = make_container(pg_url)
    rng = random.Random(9)
    with live_server(c) as base, httpx.Client(base_url=base, timeout=120) as http:
        account, key, template = _funded_account(http)
        for round_ in range(ROUNDS):
            numbers = [f"1391{round_:03d}{n:04d}" for n in range(1000, 1000 + RECIPIENTS)]
            r = http.post(f"/v1/accounts/{account}/sends", headers=_auth(key),
                          json={"template_id": template, "recipients": numbers})  # fmt: skip
            assert r.status_code == 202, r.text
            send_id = r.json()["send_id"]
            r = http.post("/v1/sim/clock", json={"advance_seconds": 0},
                          headers=_auth(OPERATOR_TOKEN))  # fmt: skip
            assert r.status_code == 200, r.text  # handed over, receipts not yet due
            ids = [message_id(UUID(send_id), i) for i in range(RECIPIENTS)]
            start = threading.Barrier(THREADS)
            answers: list[dict[str, Any]] = []
            threads = [
                threading.Thread(target=_post_all, args=(base, groups, start, answers))
                for groups in _groupings(ids, rng)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(300)
            assert not any(t.is_alive() for t in threads)

            refunds = _refunds_of(c, send_id)
            assert len(refunds) == RECIPIENTS, f"round {round_}: {len(refunds)} refunds stored"
            assert sorted(refunds) == sorted(f"message:{m}" for m in ids), round_
            assert sum(a["refunded_units"] for a in answers) == RECIPIENTS, round_
            assert sum(a["recorded"] for a in answers) == RECIPIENTS, round_
            assert c.read_models.wait_until_current(120)
            counts = http.get(f"/v1/sends/{send_id}", headers=_auth(key)).json()["counts"]
            assert counts["failed"] == RECIPIENTS, (round_, counts)
            report = audit_ledger(c.quota, c.ledger, c.send_views)
            assert report.ok, (round_, report.problems)
        balance = c.quota.balance(UUID(account))
        assert (balance.charged_total, balance.refunded_total) == (2000, 2000)

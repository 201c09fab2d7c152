"""Webhook benchmark (issue 14) against a real ``smsplat serve`` process (PostgreSQL, the
simulated carrier on the system clock): a 10,000-recipient send's ``message.status`` events
(20,000: each message's ``sending`` and ``success``) delivered to a local receiver that
verifies every signature with ``standardwebhooks``; (m) events delivered a second, for an
endpoint that batches (100 a delivery) and for one that does not, and (n) how long after the
last receipt the backlog is empty."""

from __future__ import annotations

import os
import time
from typing import Any

import httpx

from tests.webhook_receiver import Receiver

from .database import drop_database, fresh_database
from .sending import Service, _account, _api, _wait

RECIPIENTS = 10_000
EVENTS = 2 * RECIPIENTS  # sending, then success


def _events(receiver: Receiver) -> int:
    total = 0
    for _, body in list(receiver.verified):
        data: Any = body["data"]
        total += len(data["messages"]) if "messages" in data else 1
    return total


def _run_one(svc: Service, client: httpx.Client, batch: bool) -> dict[str, float]:
    receiver = Receiver()
    try:
        aid, key, mass, _ = _account(client, packages=1)
        endpoint = {"url": receiver.url, "events": ["message.status"], "batch": batch}
        hook = _api(client, "POST", f"/v1/accounts/{aid}/webhooks", key, endpoint)
        receiver.secrets = [hook["secret"]]
        numbers = "\n".join(f"139{n:04d}{5000 + n % 4000:04d}" for n in range(RECIPIENTS))
        sent = _api(client, "POST", f"/v1/accounts/{aid}/sends", key,
                    {"template_id": mass, "recipients_text": numbers})  # fmt: skip
        started = time.perf_counter()
        path = f"/v1/sends/{sent['send_id']}"
        _wait(lambda: _api(client, "GET", path, key)["counts"]["success"] == RECIPIENTS,
              600, 0.1)  # fmt: skip
        settled = time.perf_counter()
        _wait(lambda: _events(receiver) >= EVENTS, 600, 0.05)
        done = time.perf_counter()
        assert receiver.unverified == 0, "a delivery failed verification"
        return {"seconds": done - started, "rate": EVENTS / (done - started),
                "drain": max(0.0, done - settled),
                "deliveries": len(receiver.verified)}  # fmt: skip
    finally:
        receiver.server.shutdown()


def run() -> None:
    name, url = fresh_database()
    svc = Service(url, {"SMS_WEBHOOK_ALLOW_PRIVATE": "1"})
    try:
        print(f"smsplat webhook benchmark on PostgreSQL ({os.cpu_count()} cores)")
        with httpx.Client(base_url=svc.base, timeout=60) as client:
            for batch in (True, False):
                got = _run_one(svc, client, batch)
                label = "batched (100 a delivery)" if batch else "one event a delivery   "
                print(f"  (m) {EVENTS:,} message.status, {label}  {got['rate']:7.0f} events/s "
                      f"in {got['seconds']:6.2f} s ({got['deliveries']:.0f} deliveries; "
                      f"target 2,000/s)")  # fmt: skip
                print(f"  (n) backlog empty after the last receipt  {got['drain']:6.2f} s   "
                      f"(target 30 s)")  # fmt: skip
        print(f"      service peak resident memory          {svc.peak_rss_mb():7.0f} MB")
    finally:
        svc.stop()
        drop_database(name)

"""Console pages benchmark (issue 16) against a real ``smsplat serve`` process on PostgreSQL,
with 1,000,000 messages written straight into the read models: each page's answer time, signed
in as the operator, as p50/p95/max over repeated requests, against the 200 ms target; beside
the same run's baseline, the sign-in page (a rendered template reading no table).

Times are the client's, on the same host (loopback): an upper bound of the server's time.
A send's own page (and its progress bar) is measured on a real send of 10,000 messages, made
through the API and settled by the simulated carrier: it reads the send from the event store.
"""

from __future__ import annotations

import re
import statistics
import time

import httpx

from tests.message_rows import insert_messages

from .database import drop_database, fresh_database
from .sending import OPERATOR, Service, _account, _api, _wait

MESSAGES = 1_000_000
REPEATS = 20
TARGET_MS = 200.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _signed_in(client: httpx.Client) -> None:
    form = client.get("/console/sign-in")
    found = CSRF.search(form.text)
    assert found, form.text
    r = client.post("/console/sign-in", data={"token": OPERATOR, "csrf_token": found.group(1)})
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text


def _times(client: httpx.Client, path: str) -> dict[str, float]:
    """Answer times of ``path`` in ms (two warm-up requests first), and its status."""
    for _ in range(2):
        status = client.get(path).status_code
    took: list[float] = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        status = client.get(path).status_code
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return {
        "status": status,
        "p50": statistics.median(took),
        "p95": took[int(len(took) * 0.95) - 1],
        "max": took[-1],
    }


def _line(name: str, figures: dict[str, float]) -> bool:
    met = figures["status"] == 200 and figures["max"] <= TARGET_MS
    print(f"  {name:<34} {figures['status']:>3.0f}  p50 {figures['p50']:6.1f} ms  "
          f"p95 {figures['p95']:6.1f} ms  max {figures['max']:6.1f} ms  "
          f"{'ok' if met else 'MISSED'} (target {TARGET_MS:.0f} ms)")  # fmt: skip
    return met


def _settled_send(client: httpx.Client, aid: str, key: str, template_id: str) -> str:
    """A 10,000-message send through the API, waited on until every message succeeded."""
    numbers = "\n".join(f"139{n:04d}{5000 + n % 4000:04d}" for n in range(10_000))
    sent = _api(client, "POST", f"/v1/accounts/{aid}/sends", key,
                {"template_id": template_id, "recipients_text": numbers})  # fmt: skip
    send_id = str(sent["send_id"])

    def settled() -> bool:
        counts = _api(client, "GET", f"/v1/sends/{send_id}", key)["counts"]
        return bool(counts["success"] == 10_000)

    _wait(settled, timeout=600, every=0.5)
    return send_id


def _pages(aid: str, template_id: str, send_id: str) -> dict[str, str]:
    """Every console page, the list pages over the whole 1,000,000 messages."""
    home = f"/console/accounts/{aid}"
    march = "from=2026-03-01T00:00&to=2026-03-08T00:00"
    return {
        "accounts list": "/console/accounts",
        "overview": f"{home}/",
        "templates": f"{home}/templates",
        "template": f"{home}/templates/{template_id}",
        "sends": f"{home}/sends",
        "a send (10,000 messages)": f"{home}/sends/{send_id}",
        "its progress bar": f"{home}/sends/{send_id}/progress",
        "records": f"{home}/records",
        "records, failed only": f"{home}/records?status=failed",
        "records, one phone": f"{home}/records?phone=13900099999",
        "statistics (1M in range)": f"{home}/statistics?{march}",
        "ledger": f"{home}/ledger",
        "opt-outs": f"{home}/opt-outs",
        "webhooks": f"{home}/webhooks",
        "review queue": "/console/review",
    }


def run() -> None:
    name, url = fresh_database()
    # plain http on loopback: the session cookie may not be Secure here
    svc = Service(url, {"SMS_POSTGRES_POOL_SIZE": "4", "SMS_CONSOLE_SECURE_COOKIE": "false"})
    try:
        with httpx.Client(base_url=svc.base, timeout=600) as client:
            aid, key, template, _ = _account(client, packages=1)
            send_id = _settled_send(client, aid, key, template)
            started = time.perf_counter()
            insert_messages(url, aid, MESSAGES, template)
            print(f"console: {MESSAGES:,} messages inserted into the read models in "
                  f"{time.perf_counter() - started:.1f} s; {REPEATS} requests a page")  # fmt: skip
            _signed_in(client)
            _line("baseline: the sign-in page", _times(client, "/console/sign-in"))
            results = [
                _line(page, _times(client, path))
                for page, path in _pages(aid, template, send_id).items()
            ]
            print(f"  {sum(results)} of {len(results)} pages within {TARGET_MS:.0f} ms; "
                  f"service peak {svc.peak_rss_mb():.0f} MB")  # fmt: skip
    finally:
        svc.stop()
        drop_database(name)

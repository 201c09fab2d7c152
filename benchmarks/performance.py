"""Performance benchmark (issue 17): every figure beside its target, on PostgreSQL, the service
(``smsplat serve``, one process), the database and the load generator on one host.

First a baseline of what a user could write instead (``baseline_app.py``: one FastAPI endpoint,
one ``INSERT … COMMIT`` per request) under the same load as (d). Then, on a fresh database:
(d) verification codes from 16 clients on one account and over 100 accounts; a 10,000-number
send accepted and handed to the simulated carrier; customers synced in batches of 1,000; the
read models rebuilt from the events all that stored. Then, on another database with 1,000,000
messages and 1,000,000 ledger entries written into the read models: the dashboard, a send's
message list and the ledger page (p99 over repeated requests), and the CSV export's rows/s.
The service's peak resident memory is read from ``/proc`` after each part.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
from smsplat.adapters.clock import SystemClock
from smsplat.infra.bootstrap import build
from smsplat.infra.settings import Settings

from tests.message_rows import insert_messages

from .console import _settled_send
from .database import drop_database, fresh_database
from .figures import latency_figures
from .sending import CLIENTS, OPERATOR, Service, _account, _free_port, _mass_send, _wait

CODES = 4000  # verification codes per (d) run
CUSTOMERS = 20_000  # synced in requests of 1,000
SCALE = 1_000_000  # messages (and ledger entries) for the reads at scale
READS = 200  # requests per read at scale (p99 of these)


def _line(name: str, value: float, unit: str, target: str, met: bool, note: str = "") -> None:
    verdict = "ok" if met else "MISSED"
    print(f"  {name:<44} {value:>10,.2f} {unit:<10} {verdict:<6} (target {target}){note}")


def _load(base: str, path_of: Callable[[int, int], tuple[str, dict[str, str], Any]],
          calls: int) -> dict[str, float]:  # fmt: skip
    """``CLIENTS`` threads posting ``calls`` requests each; figures and the errors (non-2xx)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def run(t: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            for n in range(calls):
                path, headers, body = path_of(t, n)
                started = time.perf_counter()
                r = client.post(path, json=body, headers=headers)
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    errors[0] += r.status_code >= 300

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(t,)) for t in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {**latency_figures(latencies, time.perf_counter() - started), "errors": errors[0]}


# -- the baseline ------------------------------------------------------------------------------


def _baseline(url: str) -> dict[str, float]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "benchmarks.baseline_app:app", "--port", str(port),
         "--http", "httptools", "--loop", "uvloop", "--log-level", "warning"],
        env={**os.environ, "BASELINE_DATABASE_URL": url},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _answers(f"{base}/health"), timeout=60, every=0.2)
        body = {"template_id": "t", "phone": "13800138000", "variables": {"code": "123456"}}
        return _load(base, lambda t, n: ("/messages", {}, body), CODES // CLIENTS)
    finally:
        proc.terminate()
        proc.wait(30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.HTTPError:
        return False


# -- the write side ----------------------------------------------------------------------------


def _codes(svc: Service, accounts: list[tuple[str, str, str]]) -> dict[str, float]:
    def call(t: int, n: int) -> tuple[str, dict[str, str], Any]:
        aid, key, template = accounts[(t * CODES + n) % len(accounts)]
        body = {"template_id": template, "phone": f"138{t:02d}{n:06d}",
                "variables": {"code": "123456"}}  # fmt: skip
        return f"/v1/accounts/{aid}/messages", {"Authorization": f"Bearer {key}"}, body

    return _load(svc.base, call, CODES // CLIENTS)


def _customers(svc: Service, aid: str, key: str) -> float:
    """Customers per second, 1,000 a request from 4 clients."""
    per_request, clients = 1000, 4
    requests = CUSTOMERS // per_request // clients
    headers = {"Authorization": f"Bearer {key}"}

    def call(t: int, n: int) -> tuple[str, dict[str, str], Any]:
        first = (t * requests + n) * per_request
        batch = [{"condition": "site_member", "phone": f"137{first + i:08d}", "product": "site"}
                 for i in range(per_request)]  # fmt: skip
        return f"/v1/accounts/{aid}/customers", headers, {"customers": batch}

    started = time.perf_counter()
    threads = [
        threading.Thread(target=_post_all, args=(svc.base, [call(t, n) for n in range(requests)]))
        for t in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return CUSTOMERS / (time.perf_counter() - started)


def _post_all(base: str, calls: list[tuple[str, dict[str, str], Any]]) -> None:
    with httpx.Client(base_url=base, timeout=120) as client:
        for path, headers, body in calls:
            client.post(path, json=body, headers=headers).raise_for_status()


def _rebuild(url: str) -> dict[str, float]:
    """Every read model dropped and rebuilt from the events stored, in this process."""
    c = build(Settings(database_url=url, operator_token="bench", postgres_pool_size=4),
              SystemClock())  # fmt: skip
    try:
        started = time.perf_counter()
        events = c.read_models.rebuild()
        return {"events": events, "seconds": time.perf_counter() - started}
    finally:
        c.close()


def _handed_over_within(url: str, timeout: float = 600) -> float:
    """Seconds until every accepted send has a batch given to the carrier (the event log,
    not a read model)."""
    sql = (
        "SELECT (SELECT COUNT(*) FROM quota_events WHERE topic LIKE '%%Send.Accepted%%') - "
        "(SELECT COUNT(DISTINCT originator_id) FROM quota_events "
        "WHERE topic LIKE '%%Send.BatchSubmitted%%')"
    )
    with psycopg.connect(url, autocommit=True) as conn:

        def done() -> bool:
            row = conn.execute(sql).fetchone()
            return row is not None and int(row[0]) <= 0

        return _wait(done, timeout=timeout, every=0.1)


def _write_side(url: str, baseline: dict[str, float]) -> None:
    svc = Service(url)
    try:
        mass = _mass_send(svc, url)
        with httpx.Client(base_url=svc.base, timeout=120) as client:
            synced_to = _account(client, packages=0)
        _line("accept a 10,000-number send", mass["accept"], "s", "<= 0.5 s", mass["accept"] <= 0.5)
        _line("    handed to the simulated carrier", mass["handed"], "s", "<= 2 s",
              mass["handed"] <= 2)  # fmt: skip
        _verification_codes(svc, url, baseline, "one process")
        rate = _customers(svc, synced_to[0], synced_to[1])
        _line("customer sync, batches of 1,000", rate, "/s", ">= 5,000/s", rate >= 5000)
        _line("service peak resident memory", svc.peak_rss_mb(), "MB", "<= 300 MB",
              svc.peak_rss_mb() <= 300)  # fmt: skip
    finally:
        svc.stop()
    split = Service(url, {"SMS_POSTGRES_POOL_SIZE": "8"}, split=True)
    try:
        _verification_codes(split, url, baseline, "as deployed")
        _line("    peak resident memory, largest process", split.peak_rss_mb(), "MB",
              "<= 300 MB", split.peak_rss_mb() <= 300)  # fmt: skip
    finally:
        split.stop()
    rebuilt = _rebuild(url)
    rate = rebuilt["events"] / rebuilt["seconds"]
    _line(f"read models rebuilt ({rebuilt['events']:,.0f} events)", rate, "events/s",
          ">= 10,000/s", rate >= 10_000)  # fmt: skip
    _line("    so 1,000,000 events would take", SCALE / rate, "s", "<= 120 s", SCALE / rate <= 120)


def _verification_codes(svc: Service, url: str, baseline: dict[str, float], how: str) -> None:
    """(d) on one account and over 100, then how long the carrier hand-over trails."""
    print(f"  (d) {how}:")
    with httpx.Client(base_url=svc.base, timeout=120) as client:
        one = _account(client, packages=1)
        hundred = [_account(client, packages=1) for _ in range(100)]
    for label, accounts, target in [("one account", [one], 500), ("100 accounts", hundred, 800)]:
        d = _codes(svc, [(a, k, b) for a, k, _, b in accounts])
        met = d["per_second"] >= target and d["errors"] == 0
        note = (f"  p50 {d['p50_ms']:.0f} ms, {d['errors']:.0f} errors, "
                f"{d['per_second'] / baseline['per_second']:.2f}x the baseline")  # fmt: skip
        _line(f"  verification codes, {label}", d["per_second"], "/s",
              f">= {target}/s, 0 errors", met, note)  # fmt: skip
        if label == "one account":
            _line("      p99", d["p99_ms"], "ms", "< 100 ms", d["p99_ms"] < 100)
        lag = _handed_over_within(url)
        _line("      every code handed over, after the last 202", lag, "s", "-", True)


# -- reads at scale ----------------------------------------------------------------------------


def _insert_ledger(url: str, account_id: str, count: int) -> None:
    """``count`` charges of one unit in the ledger read model after the account's own
    entries, one a second from 2026-03-02."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT COALESCE(MAX(sequence), 0) FROM quota_ledger WHERE account_id = %s",
            (account_id,),
        ).fetchone()
        after = int(row[0]) if row else 0
        conn.execute(
            "INSERT INTO quota_ledger (entry_id, account_id, sequence, at, kind, units, "
            "available_change, available_after, locked_after, purchased_after, charged_after, "
            "refunded_after, reference_type, reference_id, product, actor, position) "
            "SELECT 'bench-' || g, %s, %s + g, TIMESTAMPTZ '2026-03-02 09:00:00+08' + g * "
            "INTERVAL '1 second', 'charge', 1, -1, %s - g, 0, %s, g, 0, 'message', "
            "'bench.' || g, 'site', 'bench', g FROM generate_series(1, %s) AS g",
            (account_id, after, count, count, count),
        )


def _p99(client: httpx.Client, path: str, **params: Any) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    for _ in range(3):
        client.get(path, params=params, headers=headers).raise_for_status()
    took = []
    for _ in range(READS):
        started = time.perf_counter()
        client.get(path, params=params, headers=headers).raise_for_status()
        took.append(time.perf_counter() - started)
    return latency_figures(took, sum(took))


def _csv_rate(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    lines = 0
    headers = {"Authorization": f"Bearer {OPERATOR}", "Accept": "text/csv"}
    with client.stream("GET", path, headers=headers) as r:
        r.raise_for_status()
        for piece in r.iter_bytes():
            lines += piece.count(b"\n")
    return (lines - 1) / (time.perf_counter() - started)


def _reads_at_scale(url: str) -> None:
    svc = Service(url, {"SMS_POSTGRES_POOL_SIZE": "4"})
    try:
        with httpx.Client(base_url=svc.base, timeout=600) as client:
            aid, key, template, _ = _account(client, packages=1)
            send_id = _settled_send(client, aid, key, template)  # a real one: its events too
            insert_messages(url, aid, SCALE, template)
            _insert_ledger(url, aid, SCALE)
            reads: list[tuple[str, str, dict[str, Any]]] = [
                ("dashboard", f"/v1/accounts/{aid}/dashboard", {}),
                ("a send's messages (of 10,000)", f"/v1/sends/{send_id}/messages", {}),
                ("    from the middle", f"/v1/sends/{send_id}/messages", {"cursor": 5000}),
                ("ledger page", f"/v1/accounts/{aid}/ledger", {}),
                ("    from the middle", f"/v1/accounts/{aid}/ledger", {"cursor": SCALE // 2}),
                ("    refunds only (none)", f"/v1/accounts/{aid}/ledger", {"kind": "refund"}),
            ]  # fmt: skip
            for name, path, params in reads:
                p99 = _p99(client, path, **params)["p99_ms"]
                _line(f"{name}, 1M in the read models", p99, "ms p99", "<= 50 ms", p99 <= 50)
            rate = _csv_rate(client, f"/v1/accounts/{aid}/messages")
            _line("CSV export of 1,000,000 messages", rate, "rows/s", ">= 20,000/s", rate >= 20_000)
            _line("service peak resident memory", svc.peak_rss_mb(), "MB", "<= 300 MB",
                  svc.peak_rss_mb() <= 300)  # fmt: skip
    finally:
        svc.stop()


def run() -> None:
    print(f"smsplat performance benchmark (issue 17) on PostgreSQL ({os.cpu_count()} cores)")
    name, url = fresh_database()
    try:
        baseline = _baseline(url)
        note = f"  p50 {baseline['p50_ms']:.0f} ms, p99 {baseline['p99_ms']:.0f} ms"
        _line("baseline: FastAPI + one INSERT … COMMIT", baseline["per_second"], "/s", "-",
              True, note)  # fmt: skip
        _write_side(url, baseline)
    finally:
        drop_database(name)
    name, url = fresh_database()
    try:
        _reads_at_scale(url)
    finally:
        drop_database(name)

"""Campaign benchmark (issue 5) against a real ``smsplat serve`` process on PostgreSQL.

(g) importing a 10,000-row Excel file over HTTP (parsed, validated, priced, charged, stored);
(h) a 10,000-recipient send scheduled a few seconds ahead: accepting it (units locked), and
    from its time until all 10,000 are handed to the carrier (the scheduler polls every second);
(i) syncing 10,000 customers over HTTP from 16 clients, then accepting a send to that audience;
(j) accepting a 10,000-number marketing send while 5,000 of the numbers have opted out.
"""

from __future__ import annotations

import io
import os
import time
from datetime import datetime, timedelta, timezone

import httpx
from openpyxl import Workbook

from .database import drop_database, fresh_database
from .figures import timed_in_threads
from .sending import CARRIER, OPERATOR, Service, _account, _api, _wait

CLIENTS = 16
NUMBERS = [f"139{n:04d}{5000 + n % 4000:04d}" for n in range(10_000)]


def _xlsx(numbers: list[str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["手机号码"])
    for number in numbers:
        sheet.append([number])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _import(client: httpx.Client, aid: str, key: str, template: str) -> float:
    data = _xlsx(NUMBERS)
    started = time.perf_counter()
    r = client.post(
        f"/v1/accounts/{aid}/sends/import",
        files={"file": ("numbers.xlsx", data)},
        data={"template_id": template},
        headers={"Authorization": f"Bearer {key}"},
    )
    if r.status_code != 202 or r.json()["accepted"] != 10_000:
        raise RuntimeError(f"import: {r.status_code} {r.text[:300]}")
    return time.perf_counter() - started


def _scheduled(client: httpx.Client, aid: str, key: str, template: str) -> tuple[float, float]:
    when = datetime.now(timezone(timedelta(hours=8))) + timedelta(seconds=5)
    started = time.perf_counter()
    sent = _api(client, "POST", f"/v1/accounts/{aid}/sends", key,
                {"template_id": template, "recipients": NUMBERS,
                 "scheduled_at": when.isoformat()})  # fmt: skip
    accepted = time.perf_counter() - started
    time.sleep(max(0.0, (when - datetime.now(when.tzinfo)).total_seconds()))

    def handed() -> bool:
        counts = _api(client, "GET", f"/v1/sends/{sent['send_id']}", key)["counts"]
        return bool(counts["pending"] == 0)

    return accepted, _wait(handed)


def _sync(base: str, aid: str, key: str) -> float:
    """Customers synced per second, from ``CLIENTS`` concurrent clients."""
    per_client = len(NUMBERS) // CLIENTS
    clients = [httpx.Client(base_url=base, timeout=60) for _ in range(CLIENTS)]

    def sync(n: int, i: int) -> None:
        _api(clients[n], "POST", f"/v1/accounts/{aid}/customers", key,
             {"condition": "site_member", "phone": NUMBERS[n * per_client + i],
              "product": "site"})  # fmt: skip

    try:
        return timed_in_threads(CLIENTS, per_client, sync)["per_second"]
    finally:
        for client in clients:
            client.close()


def _timed_send(client: httpx.Client, aid: str, key: str, body: dict[str, object]) -> float:
    started = time.perf_counter()
    _api(client, "POST", f"/v1/accounts/{aid}/sends", key, body)
    return time.perf_counter() - started


def _marketing_template(client: httpx.Client, aid: str, key: str) -> str:
    template: str = _api(client, "POST", f"/v1/accounts/{aid}/templates", key,
                         {"type": "mass", "kind": "marketing", "signature": "花店",
                          "content": "会员日全场八折，欢迎光临。"})["template_id"]  # fmt: skip
    _api(client, "POST", f"/v1/templates/{template}/approve", OPERATOR)
    return template


def _opt_out(client: httpx.Client, aid: str, numbers: list[str]) -> None:
    for start in range(0, len(numbers), 1000):
        replies = [{"phone": n, "text": "TD", "account_id": aid}
                   for n in numbers[start:start + 1000]]  # fmt: skip
        _api(client, "POST", "/v1/carrier/replies", CARRIER, {"replies": replies})


def run() -> None:
    name, url = fresh_database()
    svc = Service(url)
    try:
        print(f"smsplat campaign benchmark on PostgreSQL ({os.cpu_count()} cores)")
        with httpx.Client(base_url=svc.base, timeout=120) as client:
            aid, key, mass, _ = _account(client, packages=4)
            seconds = _import(client, aid, key, mass)
            print(f"  (g) import a 10,000-row xlsx             {seconds:7.2f} s")
            accepted, handed = _scheduled(client, aid, key, mass)
            print(f"  (h) schedule 10,000 (units locked)       {accepted:7.2f} s")
            print(f"      at its time, all handed over within  {handed:7.2f} s")
            synced = _sync(svc.base, aid, key)
            print(f"  (i) sync 10,000 customers, {CLIENTS} clients   {synced:7.0f}/s")
            audience = _timed_send(client, aid, key, {
                "template_id": mass, "audience": {"conditions": ["site_member"]}})  # fmt: skip
            print(f"      accept a send to that audience       {audience:7.2f} s")
            marketing = _marketing_template(client, aid, key)
            _opt_out(client, aid, NUMBERS[::2])
            skipped = _timed_send(client, aid, key,
                                  {"template_id": marketing, "recipients": NUMBERS})  # fmt: skip
            print(f"  (j) marketing to 10,000, 5,000 opted out {skipped:7.2f} s")
        print(f"      service peak resident memory         {svc.peak_rss_mb():7.0f} MB")
    finally:
        svc.stop()
        drop_database(name)

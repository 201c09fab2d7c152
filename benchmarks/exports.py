"""Records export benchmark (issue 15) against a real ``smsplat serve`` process on PostgreSQL:
1,000,000 messages written straight into the read model, then read back over HTTP as CSV (the
whole result, streamed), as JSON pages (1,000 a page, cursor to cursor) and as xlsx (over the
first 100,000, openpyxl being the slow part), each in rows/s with the service's memory growth
over its idle size; beside the same run's baseline, PostgreSQL's own ``COPY (SELECT the same
rows in the same order) TO STDOUT`` read by psycopg."""

from __future__ import annotations

import time
from typing import Any

import httpx
import psycopg

from tests.message_rows import PER_SEND, insert_messages

from .database import drop_database, fresh_database
from .sending import OPERATOR, Service, _api

MESSAGES = 1_000_000
XLSX_MESSAGES = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _memory_mb(svc: Service, field: str) -> float:
    with open(f"/proc/{svc.proc.pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _copy_baseline(url: str, account_id: str) -> dict[str, float]:
    sql = (
        "COPY (SELECT m.message_id, m.send_id, s.template_id, m.phone, m.status, m.reason, "
        "m.units, m.product, m.carrier_message_id, m.created_at, m.submitted_at, m.final_at "
        "FROM messages m JOIN sends s ON s.send_id = m.send_id WHERE m.account_id = "
        f"'{account_id}' ORDER BY m.created_at, m.send_id, m.idx) TO STDOUT (FORMAT csv)"
    )
    started = time.perf_counter()
    lines = 0
    with psycopg.connect(url) as conn, conn.cursor().copy(sql) as copy:
        for piece in copy:
            lines += bytes(piece).count(b"\n")
    return {"rows": lines, "seconds": time.perf_counter() - started}


def _file(client: httpx.Client, path: str, accept: str, **params: Any) -> dict[str, float]:
    started = time.perf_counter()
    size = lines = 0
    headers = {"Authorization": f"Bearer {OPERATOR}", "Accept": accept}
    with client.stream("GET", path, params=params, headers=headers) as r:
        r.raise_for_status()
        for piece in r.iter_bytes():
            size += len(piece)
            lines += piece.count(b"\n")
    return {"rows": lines - 1, "seconds": time.perf_counter() - started, "bytes": size}


def _pages(client: httpx.Client, path: str) -> dict[str, float]:
    started = time.perf_counter()
    rows = pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        r = client.get(path, params=params, headers={"Authorization": f"Bearer {OPERATOR}"})
        r.raise_for_status()
        body = r.json()
        rows, pages = rows + len(body["items"]), pages + 1
        cursor = body["next_cursor"]
        if cursor is None:
            return {"rows": rows, "seconds": time.perf_counter() - started, "pages": pages}


def _line(name: str, figures: dict[str, float], svc: Service, idle: float, base: float) -> None:
    rate = figures["rows"] / figures["seconds"]
    print(f"  {name:<28} {figures['rows']:>9,.0f} rows in {figures['seconds']:6.1f} s = "
          f"{rate:>8,.0f} rows/s ({rate / base:.2f}x COPY); service peak "
          f"{_memory_mb(svc, 'VmHWM'):.0f} MB (idle {idle:.0f} MB)")  # fmt: skip


def run() -> None:
    name, url = fresh_database()
    svc = Service(url, {"SMS_POSTGRES_POOL_SIZE": "4"})  # reads only: few connections
    try:
        with httpx.Client(base_url=svc.base, timeout=600) as client:
            acc = _api(client, "POST", "/v1/accounts", OPERATOR,
                       {"name": "bench", "verification_phone": "13800138000"})  # fmt: skip
            aid = acc["account_id"]
            started = time.perf_counter()
            sends = insert_messages(url, aid, MESSAGES, "bench-template")
            print(f"exports: {MESSAGES:,} messages inserted into the read model in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            path = f"/v1/accounts/{aid}/messages"
            _file(client, path, "text/csv", send_id=sends[0])  # warm: code loaded, pools open
            _pages(client, path + f"?send_id={sends[0]}")
            idle = _memory_mb(svc, "VmRSS")
            copy = _copy_baseline(url, aid)
            base = copy["rows"] / copy["seconds"]
            print(f"  {'baseline: COPY TO STDOUT':<28} {copy['rows']:>9,.0f} rows in "
                  f"{copy['seconds']:6.1f} s = {base:>8,.0f} rows/s")  # fmt: skip
            _line("CSV over HTTP", _file(client, path, "text/csv"), svc, idle, base)
            _line("JSON pages of 1,000", _pages(client, path), svc, idle, base)
            end = f"2026-03-02T09:{XLSX_MESSAGES // PER_SEND:02d}:00+08:00"  # 10 sends a minute
            xlsx = _file(client, path, XLSX, to=end)
            xlsx["rows"] = XLSX_MESSAGES  # a zip: its bytes are not lines
            _line(f"xlsx over HTTP (first {XLSX_MESSAGES:,})", xlsx, svc, idle, base)
    finally:
        svc.stop()
        drop_database(name)

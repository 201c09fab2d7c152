"""1,000,000 messages export as CSV through a real ``smsplat serve`` process on PostgreSQL
without the process growing past 50 MB over its idle size (records export, issue 15).

The rows are written straight into the read model (no events: the export reads only the read
model); the CSV is streamed and its rows counted as they arrive, never held. The service's
peak resident memory is its kernel-kept high-water mark (VmHWM), which no sampling can miss.
"""

from __future__ import annotations

import httpx

from tests.message_rows import insert_messages
from tests.service_process import ServiceProcess
from tests.support import OPERATOR_TOKEN
from tests.timing import wait_until

MESSAGES = 1_000_000
ALLOWED_GROWTH_KB = 50 * 1024


def _memory_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def _tables_ready(http: httpx.Client) -> bool:
    return http.get("/v1/health/ready").status_code == 200


def test_a_million_messages_export_as_csv_in_constant_memory(pg_url: str) -> None:
    service = ServiceProcess(pg_url).start()
    try:
        assert service.proc is not None
        pid = service.proc.pid
        auth = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        with httpx.Client(base_url=service.base, headers=auth, timeout=600) as http:
            assert wait_until(lambda: _tables_ready(http))
            r = http.post(
                "/v1/accounts", json={"name": "导出", "verification_phone": "13800138000"}
            )
            assert r.status_code == 201, r.text
            account_id = r.json()["account_id"]
            path = f"/v1/accounts/{account_id}/messages"
            sends = insert_messages(pg_url, account_id, MESSAGES, "tpl-export")

            warm = http.get(path, params={"send_id": sends[0]}, headers={"Accept": "text/csv"})
            assert warm.status_code == 200 and warm.text.count("\n") == 10_001
            page = http.get(path, params={"limit": 1000})
            assert page.status_code == 200 and len(page.json()["items"]) == 1000
            idle_kb = _memory_kb(pid, "VmRSS")  # after one of each: code loaded, pools open

            lines = 0
            with http.stream("GET", path, headers={"Accept": "text/csv"}) as streamed:
                assert streamed.status_code == 200
                for piece in streamed.iter_bytes():
                    lines += piece.count(b"\n")
            peak_kb = _memory_kb(pid, "VmHWM")
    finally:
        service.stop()
    assert lines - 1 == MESSAGES  # the header, then one line a message
    growth = peak_kb - idle_kb
    assert growth <= ALLOWED_GROWTH_KB, f"idle {idle_kb} kB, peak {peak_kb} kB (+{growth} kB)"

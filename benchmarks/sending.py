"""Sending benchmark (issue 4) against a real ``smsplat serve`` process on PostgreSQL.

(a) accepting a 10,000-recipient mass send over HTTP (validated, priced, charged, stored);
(b) until all 10,000 are handed to the simulated carrier; (c) until all receipts are settled;
(d) business messages per second over HTTP, 16 concurrent clients, on one account and over 100
accounts, with p50/p99 latency; (e) the raw PostgreSQL baseline: COPY of 10,000 event-sized
rows, and the ratio of (a) to it; (f) the service's peak resident memory over the run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import psycopg

from .database import drop_database, fresh_database
from .figures import timed_in_threads

OPERATOR = "bench-operator"
CARRIER = "bench-carrier"  # the carrier endpoints take only the carrier's token
CLIENTS = 16
MESSAGES = 3000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """``smsplat serve`` on a free port; ``split``: as deployed (``infra/deploy/``), the API
    alone (``serve --api-only``) beside a ``projections run`` and a ``worker`` process."""

    def __init__(
        self, url: str, extra_env: dict[str, str] | None = None, split: bool = False
    ) -> None:
        self.port = _free_port()
        env = {**os.environ, "SMS_DATABASE_URL": url, "SMS_OPERATOR_TOKEN": OPERATOR,
               "SMS_CARRIER_TOKEN": CARRIER, "SMS_POSTGRES_POOL_SIZE": "20",
               **(extra_env or {})}  # fmt: skip
        env.pop("SMS_SIMULATION", None)  # the system clock: receipts come 3 real seconds later
        serve = ["serve", "--port", str(self.port), *(["--api-only"] if split else [])]
        self.proc = _smsplat(serve, env)
        few = {**env, "SMS_POSTGRES_POOL_SIZE": "4"}  # each application has its own pool
        self.helpers = (
            [_smsplat(["projections", "run"], few), _smsplat(["worker"], few)] if split else []
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 180  # a busy machine creates the tables slowly
        while True:
            try:
                if httpx.get(f"{self.base}/v1/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.2)

    def peak_rss_mb(self) -> float:
        """The peak resident memory of the service's largest process."""
        return max(_peak_rss_mb(proc.pid) for proc in [self.proc, *self.helpers])

    def stop(self) -> None:
        for proc in [self.proc, *self.helpers]:
            proc.terminate()
        for proc in [self.proc, *self.helpers]:
            proc.wait(30)


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _smsplat(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "smsplat.api.cli", "--log-level", "WARNING", *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _api(client: httpx.Client, method: str, path: str, token: str, body: Any = None) -> Any:
    r = client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    if r.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
    return r.json()


def _account(client: httpx.Client, packages: int) -> tuple[str, str, str, str]:
    """(account id, key, mass template id, business template id), funded and approved."""
    acc = _api(client, "POST", "/v1/accounts", OPERATOR,
               {"name": "bench", "verification_phone": "13800138000"})  # fmt: skip
    aid, key = acc["account_id"], acc["api_key"]
    _api(client, "POST", f"/v1/accounts/{aid}/products", key, {"product": "site"})
    for _ in range(packages):
        _api(client, "POST", f"/v1/accounts/{aid}/purchases", key, {"package_size": 10000})
    mass = _api(client, "POST", f"/v1/accounts/{aid}/templates", key,
                {"type": "mass", "kind": "notice", "signature": "花店",
                 "content": "会员日到店有礼，欢迎光临。"})["template_id"]  # fmt: skip
    business = _api(client, "POST", f"/v1/accounts/{aid}/templates", key,
                    {"type": "business", "scenario": "register", "signature": "花店"}
                    )["template_id"]  # fmt: skip
    for template in (mass, business):
        _api(client, "POST", f"/v1/templates/{template}/approve", OPERATOR)
    return aid, key, mass, business


def _wait(check: Any, timeout: float = 120, every: float = 0.02) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise RuntimeError("timed out")
        time.sleep(every)
    return time.perf_counter() - started


def _mass_send(svc: Service, url: str) -> dict[str, float]:
    with httpx.Client(base_url=svc.base, timeout=60) as client:
        aid, key, mass, _ = _account(client, packages=1)
        numbers = "\n".join(f"139{n:04d}{5000 + n % 4000:04d}" for n in range(10_000))
        started = time.perf_counter()
        sent = _api(client, "POST", f"/v1/accounts/{aid}/sends", key,
                    {"template_id": mass, "recipients_text": numbers})  # fmt: skip
        accepted = time.perf_counter() - started
        send_id = sent["send_id"]

        def counts() -> dict[str, int]:
            return dict(_api(client, "GET", f"/v1/sends/{send_id}", key)["counts"])

        handed = _wait(lambda: counts()["pending"] == 0)
        settled = _wait(lambda: counts()["success"] == 10_000)
    return {"accept": accepted, "handed": handed, "settled": handed + settled}


def _business(svc: Service, accounts: list[tuple[str, str, str]]) -> dict[str, float]:
    per_client = MESSAGES // CLIENTS
    clients = [httpx.Client(base_url=svc.base, timeout=30) for _ in range(CLIENTS)]

    def send(n: int, i: int) -> None:
        aid, key, template = accounts[(n * per_client + i) % len(accounts)]
        body = {"template_id": template, "phone": f"1381{n:03d}{i:04d}",
                "variables": {"code": "123456"}}  # fmt: skip
        _api(clients[n], "POST", f"/v1/accounts/{aid}/messages", key, body)

    try:
        return timed_in_threads(CLIENTS, per_client, send)
    finally:
        for client in clients:
            client.close()


def _copy_baseline(url: str) -> float:
    """COPY 10,000 rows shaped like stored events (id, version, topic, ~200 bytes of JSON)."""
    fields = {"entry_id": "x" * 36, "reference": "message:" + "y" * 38, "units": 1,
              "actor": "account:" + "z" * 36, "available_after": 9999}  # fmt: skip
    state = json.dumps(fields).encode()
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE copy_baseline (originator_id uuid, originator_version int, "
            "topic text, state bytea, notification_id bigserial)"
        )
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY copy_baseline (originator_id, originator_version, topic, state) FROM STDIN"
            ) as copy,
        ):
            for n in range(10_000):
                copy.write_row(("00000000-0000-0000-0000-000000000001", n, "bench:Event", state))
        conn.commit()
        return time.perf_counter() - started


def run() -> None:
    name, url = fresh_database()
    svc = Service(url)
    try:
        print(f"smsplat sending benchmark on PostgreSQL ({os.cpu_count()} cores)")
        mass = _mass_send(svc, url)
        print(f"  (a) accept a 10,000-recipient send      {mass['accept']:7.2f} s   (target 1.5)")
        print(f"  (b) all 10,000 handed to the carrier     {mass['handed']:7.2f} s   (target 5)")
        print(f"  (c) all receipts settled (3 s carrier)  {mass['settled']:7.2f} s")
        with httpx.Client(base_url=svc.base, timeout=60) as client:
            one = _account(client, packages=1)
            hundred = [_account(client, packages=1) for _ in range(100)]
        for label, accounts in [("one account", [one]), ("100 accounts", hundred)]:
            figures = _business(svc, [(a, k, b) for a, k, _, b in accounts])
            print(
                f"  (d) business messages, {label:13s} {figures['per_second']:7.0f}/s   "
                f"p50 {figures['p50_ms']:5.1f} ms  p99 {figures['p99_ms']:6.1f} ms"
                "   (target 500/s, p99 < 100 ms on one account)"
            )
        copy = _copy_baseline(url)
        print(f"  (e) COPY 10,000 event-sized rows         {copy:7.3f} s   (a) / COPY = "
              f"{mass['accept'] / copy:.1f}")  # fmt: skip
        print(
            f"  (f) service peak resident memory         {svc.peak_rss_mb():7.0f} MB  (target 400)"
        )
    finally:
        svc.stop()
        drop_database(name)

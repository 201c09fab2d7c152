"""Quota benchmark against PostgreSQL: charges per second, contention, read-model rebuild.

Runs on a fresh database created next to ``SMS_BENCH_DATABASE_URL`` (default: the test
server, ``postgresql://postgres@127.0.0.1:5432/test``) and dropped afterwards.
"""

from __future__ import annotations

import os
import resource
import time
from uuid import UUID

from smsplat.adapters.clock import SystemClock
from smsplat.domain.ledger import Reference
from smsplat.infra.bootstrap import Container, build
from smsplat.infra.settings import Settings

from .database import drop_database, fresh_database
from .figures import timed_in_threads


def _accounts(c: Container, count: int) -> list[UUID]:
    ids = []
    for i in range(count):
        new = c.accounts.create_account(f"bench {i}", "13800138000", "operator")
        c.accounts.activate_product(new.account_id, "site", "operator")
        for n in range(5):
            c.quota.purchase(new.account_id, 10_000, f"p{n}", "operator")
        ids.append(new.account_id)
    return ids


def run() -> None:
    name, url = fresh_database()
    c = build(
        Settings(database_url=url, operator_token="bench", postgres_pool_size=10), SystemClock()
    )
    try:
        accounts = _accounts(c, 100)
        hot = accounts[0]
        print(f"smsplat quota benchmark on PostgreSQL ({os.cpu_count()} cores)")

        def one_account(t: int, n: int) -> None:
            c.quota.charge(hot, Reference("message", f"a{t}-{n}"), 1, "site", "bench")

        def many_accounts(t: int, n: int) -> None:
            account = accounts[(t * 7919 + n) % len(accounts)]
            c.quota.charge(account, Reference("message", f"b{t}-{n}"), 1, "site", "bench")

        for label, threads, fn in [
            ("1 thread, one account", 1, one_account),
            ("8 threads, one account", 8, one_account),
            ("8 threads, 100 accounts", 8, many_accounts),
        ]:
            figures = timed_in_threads(threads, 2000 // threads, fn)
            print(
                f"  charges, {label:26s} {figures['per_second']:8.0f}/s   "
                f"p50 {figures['p50_ms']:6.1f} ms   p99 {figures['p99_ms']:6.1f} ms"
            )

        started = time.perf_counter()
        events = c.read_models.rebuild()
        elapsed = time.perf_counter() - started
        print(f"  read-model rebuild           {events / elapsed:8.0f} events/s ({events} events)")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak resident memory         {peak_mb:8.0f} MB")
    finally:
        c.close()
        drop_database(name)

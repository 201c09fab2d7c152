"""Concurrent charges on one account never overspend it (Q10), on real PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from smsplat.adapters.clock import SimulatedClock
from smsplat.commands.quota import QuotaApp
from smsplat.domain.ledger import Reference
from smsplat.infra.bootstrap import Container
from smsplat.projections.ledger_audit import audit_ledger

from tests.conftest import make_container
from tests.integration.history import charge_until_refused, funded_account, process_worker

# Races at the quota pool itself: charges straight to the pool, with no sends behind them.
pytestmark = pytest.mark.pool_only_ledger


def test_Q10_threads_racing_on_one_account_never_overspend(container: Container) -> None:
    """Q10: 8 threads charge one 1,000-unit pool at once; exactly 1,000 units are charged."""
    account = funded_account(container)
    results: list[int] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        got = charge_until_refused(container, account, f"t{i}", units=1 + i % 3)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    balance = container.quota.balance(account)
    assert sum(results) == balance.charged_total
    assert balance.available >= 0
    assert balance.available < 3  # nobody stopped while a unit they could take was left
    assert balance.charged_total + balance.available == 1000
    container.read_models.catch_up()
    # charges straight to the pool (Q10 at the pool itself): no sends behind them
    assert audit_ledger(container.quota, container.ledger, pool_only=True).ok


DEADLINE = 600  # seconds: four spawned processes on a busy 2-core machine, not a speed bound


@pytest.mark.slow
def test_Q10_processes_racing_on_one_account_never_overspend(pg_url: str) -> None:
    """Q10: four OS processes, each with its own connections and aggregate cache, race."""
    c = make_container(pg_url, SimulatedClock())
    try:
        account = funded_account(c, size=1000)
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        gate = ctx.Event()
        procs = [
            ctx.Process(target=process_worker, args=(pg_url, str(account), f"p{i}", gate, queue))
            for i in range(4)
        ]
        for p in procs:
            p.start()
        assert all(queue.get(timeout=DEADLINE)[0] == "ready" for _ in procs)
        gate.set()  # all four race from here
        got = [queue.get(timeout=DEADLINE)[1] for _ in procs]
        for p in procs:
            p.join(timeout=DEADLINE)
            assert p.exitcode == 0
        balance = c.quota.balance(account)
        assert sum(got) == balance.charged_total == 1000
        assert balance.available == 0
        # a real race: more than one process won charges (which ones is the scheduler's call)
        assert sum(1 for g in got if g > 0) >= 2, got
        c.read_models.catch_up()
        report = audit_ledger(c.quota, c.ledger, pool_only=True)  # pool charges, no sends
        assert report.ok, report.problems
        assert report.entries == 1 + 500  # the purchase and 500 two-unit charges
    finally:
        c.close()


class CommitThenFail(QuotaApp):
    """A save that commits and then reports failure, as seen when PostgreSQL restarts."""

    name = "quota"  # the same event table as the real quota application
    failures_left = 1

    def _record(self, processing_event: Any) -> Any:
        recordings = super()._record(processing_event)
        if self.failures_left:
            self.failures_left -= 1
            raise IntegrityError("connection lost after commit")
        return recordings


def test_Q12_a_save_that_committed_despite_an_error_is_not_applied_twice(
    container: Container,
) -> None:
    """Q12: the retry finds its own entry among the stored events instead of charging again."""
    account = funded_account(container)
    env = container.quota.env
    flaky = CommitThenFail(dict(env.items()), container.clock, container.accounts)
    try:
        change = flaky.charge(account, Reference("message", "m-1"), 5, "site", "system")
        assert flaky.failures_left == 0
        assert change.balance.charged_total == 5
        balance = container.quota.balance(account)
        assert balance.charged_total == 5 and balance.available == 995
    finally:
        flaky.close()

"""The ledger as finance reads it, under random histories, on the real store (Q10, Q12).

A hypothesis state machine drives the quota application on a fresh SQLite event store and
checks the read models that the API serves: the available balance never goes negative, the
figures always add up, every unit is traceable to one entry, and the balance ``as_of`` any
past instant equals the sum of the entries up to it.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)
from smsplat.adapters.clock import SimulatedClock
from smsplat.domain.errors import InsufficientQuota
from smsplat.domain.ledger import Balance, EntryKind, Reference
from smsplat.infra.bootstrap import Container
from smsplat.projections.quota_ledger import LedgerQuery

from tests.conftest import START, make_container


class StoredLedgerMachine(RuleBasedStateMachine):
    locks = Bundle("locks")
    charges = Bundle("charges")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.clock = SimulatedClock(START)
        self.c: Container = make_container(
            f"sqlite:///{Path(self.dir.name) / 'ledger.db'}", self.clock
        )
        self.n = 0
        self.instants: list[datetime] = []

    @initialize()
    def open_account(self) -> None:
        new = self.c.accounts.create_account("prop", "13800138000", "operator")
        self.c.accounts.activate_product(new.account_id, "site", "operator")
        self.account: UUID = new.account_id

    def _ref(self, kind: str) -> str:
        self.n += 1
        return f"{kind}{self.n}"

    @rule(size=st.sampled_from([1000, 5000, 10000]))
    def purchase(self, size: int) -> None:
        self.c.quota.purchase(self.account, size, self._ref("p"), "operator")

    @rule(target=charges, units=st.integers(1, 4000), product=st.sampled_from(["site", "mall"]))
    def charge(self, units: int, product: str) -> tuple[str, int]:
        ref = self._ref("m")
        before = self.c.quota.balance(self.account)
        try:
            self.c.quota.charge(self.account, Reference("message", ref), units, product, "sys")
        except InsufficientQuota as refused:
            assert units > before.available == refused.available  # Q10: refused whole
            assert self.c.quota.balance(self.account) == before
            return (ref, 0)
        return (ref, units)

    @rule(target=locks, units=st.integers(1, 3000))
    def lock(self, units: int) -> tuple[str, int]:
        ref = self._ref("s")
        try:
            self.c.quota.lock(self.account, ref, units, "site", "sys")
        except InsufficientQuota:
            return (ref, 0)
        return (ref, units)

    @rule(lock=consumes(locks), share=st.floats(0.01, 1.0))
    def submit_locked(self, lock: tuple[str, int], share: float) -> None:
        ref, held = lock
        if held:
            units = max(1, int(held * share))
            self.c.quota.charge_lock(self.account, ref, units, "site", "sys")

    @rule(lock=consumes(locks))
    def cancel(self, lock: tuple[str, int]) -> None:
        ref, held = lock
        if held:
            self.c.quota.release(self.account, ref, "sys")

    @rule(charge=consumes(charges))
    def refund(self, charge: tuple[str, int]) -> None:
        ref, units = charge
        if units:
            self.c.quota.refund(
                self.account,
                Reference("refund", ref),
                Reference("message", ref),
                units,
                None,
                "sys",
            )

    @rule(seconds=st.integers(0, 7 * 86400))
    def time_passes(self, seconds: int) -> None:
        self.instants.append(self.clock.now())
        self.clock.advance(seconds)

    @invariant()
    def figures_add_up(self) -> None:
        if not hasattr(self, "account"):
            return
        balance = self.c.quota.balance(self.account)
        assert balance.available >= 0 and balance.locked >= 0
        assert balance.is_consistent()

    def teardown(self) -> None:
        try:
            if hasattr(self, "account"):
                self._check_read_models()
        finally:
            self.c.close()
            self.dir.cleanup()

    def _check_read_models(self) -> None:
        self.c.read_models.catch_up()
        account = str(self.account)
        entries = self.c.ledger.entries(LedgerQuery(account, limit=10**6))
        assert self.c.ledger.balance(account) == self.c.quota.balance(self.account)
        # every unit traceable to one entry: the totals are the sums of their entries
        balance = self.c.quota.balance(self.account)
        by_kind = {k: sum(e.units for e in entries if e.kind == k) for k in EntryKind}
        assert by_kind[EntryKind.PURCHASE] == balance.purchased_total
        assert by_kind[EntryKind.CHARGE] == balance.charged_total
        assert by_kind[EntryKind.REFUND] == balance.refunded_total
        assert len({e.entry_id for e in entries}) == len(entries)
        # as_of any past instant == the sum of the entries up to it
        probes = [*self.instants, self.clock.now(), START - timedelta(days=1)]
        for instant in probes:
            summed = Balance()
            for e in entries:
                if e.at <= instant:
                    summed = summed.after(EntryKind(e.kind), e.units, e.from_lock)
            assert self.c.ledger.balance(account, as_of=instant) == summed, instant


TestStoredLedger = StoredLedgerMachine.TestCase
TestStoredLedger.settings = settings(max_examples=50, stateful_step_count=40, deadline=None)

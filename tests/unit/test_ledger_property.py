"""Stateful property test of the quota ledger (Q12, Q10, Q9, Q5, Q7, Q11).

A hypothesis state machine drives one ``QuotaPool`` with random purchases, locks, charges,
charges of locks, refunds, releases, refused charges and clock moves (forward, and sometimes a
little back). It keeps its own model of the five balance figures, computed here by plain
arithmetic, and the list of entries the pool recorded (via ``entry_from_event``).

Q12: every change of quota is one entry; the entries add up exactly to the balance, and the
balance at any past instant is the sum of the entries up to it.
Q10: a charge or lock needing more than is available is refused whole with the exact text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)
from smsplat.domain.errors import InsufficientQuota, QuotaConflict
from smsplat.domain.ledger import Balance, EntryKind, LedgerEntry, Reference, balance_of
from smsplat.domain.products import Product
from smsplat.domain.quota import QuotaPool, entry_from_event

BEIJING = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
PHONE = "13900139000"
ACCOUNT = UUID(int=0x5AA5)
PRODUCTS: list[str | None] = [p.value for p in Product] + [None]


def q10_text(x: int) -> str:
    return f"目前账户短信数量为{x},短信发送将请求失败,购买短信包后可继续使用。"


@dataclass
class Expected:
    """One entry the model expects the pool to record, with the figures right after it."""

    kind: EntryKind
    units: int
    reference: Reference
    product: str | None
    from_lock: bool
    related: Reference | None
    after: Balance


class QuotaLedgerMachine(RuleBasedStateMachine):
    """Q12 and Q10 over random histories of one quota pool."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = START
        self.pool = QuotaPool.open(ACCOUNT, PHONE, START)
        self.opened_at = START
        self.events: list[Any] = list(self.pool.collect_events())
        self.entries: list[LedgerEntry] = []
        self.history: list[Balance] = []  # the model's figures right after each entry
        # the model
        self.available = 0
        self.locked = 0
        self.purchased = 0
        self.charged = 0
        self.refunded = 0
        self.locks: dict[str, int] = {}
        self.charges: list[tuple[Reference, str | None]] = []
        self.armed = False
        self.alerts = 0
        self.last_at: datetime | None = None
        self.counter = 0

    # -- model helpers --------------------------------------------------------------------

    def model(self) -> Balance:
        return Balance(
            available=self.available,
            locked=self.locked,
            purchased_total=self.purchased,
            charged_total=self.charged,
            refunded_total=self.refunded,
        )

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def expect(
        self,
        kind: EntryKind,
        units: int,
        reference: Reference,
        product: str | None,
        from_lock: bool = False,
        related: Reference | None = None,
    ) -> Expected:
        return Expected(kind, units, reference, product, from_lock, related, self.model())

    def take(self, expected: list[Expected], alert: bool) -> None:
        """Check the events of the last command against what the model expects."""
        events = list(self.pool.collect_events())
        entry_events = [e for e in events if isinstance(e, QuotaPool.EntryRecorded)]
        alerts = [e for e in events if isinstance(e, QuotaPool.LowBalanceAlerted)]
        assert len(entry_events) + len(alerts) == len(events)
        assert len(entry_events) == len(expected)
        # entry times never go back: not before the last entry, nor before the pool opened
        moment = max(self.clock, self.last_at or self.opened_at)
        for event, want in zip(entry_events, expected, strict=True):
            entry = entry_from_event(event, str(ACCOUNT))
            assert entry.kind is want.kind
            assert entry.units == want.units
            assert entry.reference == want.reference
            assert entry.product == want.product
            assert entry.from_lock is want.from_lock
            assert entry.related == want.related
            assert entry.actor == "actor"
            assert entry.at == moment  # Q12: monotonic even if the clock stepped back
            assert entry.sequence == event.originator_version
            assert (entry.available_after, entry.locked_after) == (
                want.after.available,
                want.after.locked,
            )
            self.entries.append(entry)
            self.history.append(want.after)
        if expected:
            self.last_at = moment
        # Q9: one alert when a charge or lock takes an armed pool below 30
        if alert:
            assert len(alerts) == 1
            assert alerts[0].available == self.available
            assert alerts[0].phone == PHONE
            assert alerts[0].timestamp == moment
            self.alerts += 1
        else:
            assert alerts == []
        self.events.extend(events)

    def take_alert(self) -> bool:
        """Q9: after a charge or lock, is an alert due? (spends the arming)"""
        due = self.armed and self.available < 30
        if due:
            self.armed = False
        return due

    def assert_unchanged(self, version: int) -> None:
        assert self.pool.collect_events() == []
        assert self.pool.version == version
        assert self.pool.balance == self.model()
        assert self.pool.locks == self.locks

    # -- rules ----------------------------------------------------------------------------

    @rule(size=st.sampled_from([1000, 5000, 10000]))
    def purchase(self, size: int) -> None:
        purchase_id = self.next_id("p")
        self.pool.purchase(purchase_id, size, size, "actor", self.clock)
        self.available += size
        self.purchased += size
        self.armed = True
        self.take(
            [self.expect(EntryKind.PURCHASE, size, Reference("purchase", purchase_id), None)], False
        )

    @rule(units=st.integers(1, 3000), product=st.sampled_from(PRODUCTS))
    def lock(self, units: int, product: str | None) -> None:
        send_id = self.next_id("s")
        if units > self.available:
            version = self.pool.version
            try:
                self.pool.lock(send_id, units, product, "actor", self.clock)
            except InsufficientQuota as refused:
                assert refused.detail == q10_text(self.available)
            else:
                raise AssertionError("Q10: a lock beyond available must be refused")
            self.assert_unchanged(version)
            return
        self.pool.lock(send_id, units, product, "actor", self.clock)
        self.available -= units
        self.locked += units
        self.locks[send_id] = units
        want = self.expect(EntryKind.LOCK, units, Reference("send", send_id), product)
        self.take([want], self.take_alert())

    @rule(
        units=st.integers(1, 3000),
        product=st.sampled_from(PRODUCTS),
        kind=st.sampled_from(["message", "send"]),
    )
    def charge(self, units: int, product: str | None, kind: str) -> None:
        reference = Reference(kind, self.next_id("c"))
        if units > self.available:
            version = self.pool.version
            try:
                self.pool.charge(reference, units, product, "actor", self.clock)
            except InsufficientQuota as refused:
                assert refused.detail == q10_text(self.available)
            else:
                raise AssertionError("Q10: a charge beyond available must be refused")
            self.assert_unchanged(version)
            return
        self.pool.charge(reference, units, product, "actor", self.clock)
        self.available -= units
        self.charged += units
        self.charges.append((reference, product))
        want = self.expect(EntryKind.CHARGE, units, reference, product)
        self.take([want], self.take_alert())

    @precondition(lambda self: self.available > 60)
    @rule(leave=st.integers(0, 60), lock=st.booleans(), product=st.sampled_from(PRODUCTS))
    def take_down_to(self, leave: int, lock: bool, product: str | None) -> None:
        """A charge or lock that leaves ``leave`` units available: Q9's threshold is 30."""
        units = self.available - leave
        self.available -= units
        if lock:
            send_id = self.next_id("s")
            self.pool.lock(send_id, units, product, "actor", self.clock)
            self.locked += units
            self.locks[send_id] = units
            want = self.expect(EntryKind.LOCK, units, Reference("send", send_id), product)
        else:
            reference = Reference("message", self.next_id("c"))
            self.pool.charge(reference, units, product, "actor", self.clock)
            self.charged += units
            self.charges.append((reference, product))
            want = self.expect(EntryKind.CHARGE, units, reference, product)
        self.take([want], self.take_alert())

    @precondition(lambda self: bool(self.locks))
    @rule(data=st.data(), product=st.sampled_from(PRODUCTS))
    def charge_lock(self, data: st.DataObject, product: str | None) -> None:
        send_id = data.draw(st.sampled_from(sorted(self.locks)), label="send")
        held = self.locks[send_id]
        units = data.draw(st.integers(1, held), label="units")
        self.pool.charge_lock(send_id, units, product, "actor", self.clock)
        reference = Reference("send", send_id)
        del self.locks[send_id]
        self.locked -= units
        self.charged += units
        self.charges.append((reference, product))
        expected = [
            self.expect(EntryKind.CHARGE, units, reference, product, True, reference),
        ]
        if held > units:
            self.locked -= held - units
            self.available += held - units
            expected.append(self.expect(EntryKind.RELEASE, held - units, reference, product))
        self.take(expected, False)

    @precondition(lambda self: bool(self.locks))
    @rule(data=st.data())
    def charge_more_than_locked(self, data: st.DataObject) -> None:
        send_id = data.draw(st.sampled_from(sorted(self.locks)), label="send")
        units = self.locks[send_id] + data.draw(st.integers(1, 100), label="extra")
        version = self.pool.version
        try:
            self.pool.charge_lock(send_id, units, None, "actor", self.clock)
        except QuotaConflict:
            pass
        else:
            raise AssertionError("Q5: a charge beyond its lock must be refused")
        self.assert_unchanged(version)

    @precondition(lambda self: self.charged > self.refunded)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        charge, product = data.draw(st.sampled_from(self.charges), label="charge")
        refundable = self.charged - self.refunded
        units = data.draw(st.integers(1, min(refundable, 3000)), label="units")
        reference = Reference("message", self.next_id("r"))
        self.pool.refund(reference, charge, units, product, "actor", self.clock)
        self.available += units
        self.refunded += units
        self.take([self.expect(EntryKind.REFUND, units, reference, product, False, charge)], False)

    @rule(extra=st.integers(1, 1000))
    def refund_too_much(self, extra: int) -> None:
        units = self.charged - self.refunded + extra
        version = self.pool.version
        try:
            self.pool.refund(
                Reference("message", "x"),
                Reference("message", "y"),
                units,
                None,
                "actor",
                self.clock,
            )
        except QuotaConflict:
            pass
        else:
            raise AssertionError("a refund beyond the units charged must be refused")
        self.assert_unchanged(version)

    @precondition(lambda self: bool(self.locks))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        send_id = data.draw(st.sampled_from(sorted(self.locks)), label="send")
        held = self.locks.pop(send_id)
        assert self.pool.release(send_id, "actor", self.clock) == held
        self.available += held
        self.locked -= held
        self.take([self.expect(EntryKind.RELEASE, held, Reference("send", send_id), None)], False)

    @rule(known=st.booleans())
    def release_closed_lock(self, known: bool) -> None:
        """Q11: an unknown or closed lock cannot be released."""
        closed = [e.reference.id for e in self.entries if e.reference.type == "send"]
        closed = [s for s in closed if s not in self.locks]
        send_id = closed[-1] if known and closed else "never-locked"
        version = self.pool.version
        try:
            self.pool.release(send_id, "actor", self.clock)
        except QuotaConflict:
            pass
        else:
            raise AssertionError("Q11: releasing a closed or unknown lock must be refused")
        self.assert_unchanged(version)

    @rule(extra=st.integers(1, 3000), lock=st.booleans())
    def refused_beyond_available(self, extra: int, lock: bool) -> None:
        """Q10: more than available is refused whole with the exact text; nothing changes."""
        units = self.available + extra
        version = self.pool.version
        try:
            if lock:
                self.pool.lock(self.next_id("s"), units, None, "actor", self.clock)
            else:
                self.pool.charge(Reference("message", "z"), units, None, "actor", self.clock)
        except InsufficientQuota as refused:
            assert refused.detail == q10_text(self.available)
            assert refused.available == self.available
        else:
            raise AssertionError("Q10: more than available must be refused")
        self.assert_unchanged(version)

    @rule(seconds=st.integers(0, 86400))
    def advance(self, seconds: int) -> None:
        self.clock += timedelta(seconds=seconds)

    @rule(seconds=st.integers(1, 600))
    def step_back(self, seconds: int) -> None:
        """The caller's clock steps back a little; entry times must not (Q12)."""
        self.clock -= timedelta(seconds=seconds)

    @precondition(lambda self: bool(self.entries))
    @rule(data=st.data())
    def balance_as_of(self, data: st.DataObject) -> None:
        """Q12: the balance at a past instant is the sum of the entries up to it."""
        anchor = data.draw(st.sampled_from(self.entries), label="anchor").at
        offset = data.draw(st.integers(-3600, 3600), label="offset")
        self.check_as_of(anchor + timedelta(seconds=offset))

    def check_as_of(self, t: datetime) -> None:
        upto = [e for e in self.entries if e.at <= t]
        assert upto == self.entries[: len(upto)]  # entry times are monotonic
        balance = balance_of(upto)
        if not upto:
            assert balance == Balance()
            return
        last = upto[-1]
        assert (balance.available, balance.locked) == (last.available_after, last.locked_after)
        assert balance == self.history[len(upto) - 1]

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def figures_are_consistent(self) -> None:
        b = self.pool.balance
        assert b.available >= 0
        assert b.locked >= 0
        assert b.available == b.purchased_total - b.charged_total - b.locked + b.refunded_total
        assert b == self.model()
        assert self.pool.locks == self.locks
        assert sum(self.locks.values()) == self.locked

    @invariant()
    def entries_add_up_to_the_balance(self) -> None:
        """Q12: every unit is traceable to exactly one entry."""
        assert balance_of(self.entries) == self.pool.balance
        assert len({e.entry_id for e in self.entries}) == len(self.entries)
        by_kind: dict[EntryKind, int] = dict.fromkeys(EntryKind, 0)
        from_lock = 0
        for e in self.entries:
            assert e.units > 0
            by_kind[e.kind] += e.units
            if e.from_lock:
                from_lock += e.units
        assert by_kind[EntryKind.PURCHASE] == self.purchased
        assert by_kind[EntryKind.CHARGE] == self.charged
        assert by_kind[EntryKind.REFUND] == self.refunded
        assert by_kind[EntryKind.LOCK] - by_kind[EntryKind.RELEASE] - from_lock == self.locked
        assert sum(e.available_change for e in self.entries) == self.available

    @invariant()
    def entries_are_ordered(self) -> None:
        for before, after in zip(self.entries, self.entries[1:], strict=False):
            assert before.at <= after.at
            assert before.sequence < after.sequence

    def teardown(self) -> None:
        """Q12: replaying the stored events rebuilds the same pool; every instant adds up."""
        replayed: Any = None
        for event in self.events:
            replayed = event.mutate(replayed)
        assert isinstance(replayed, QuotaPool)
        assert replayed.balance == self.pool.balance
        assert replayed.locks == self.pool.locks
        assert replayed.purchases == self.pool.purchases
        assert replayed.alert_armed is self.pool.alert_armed is self.armed
        assert len([e for e in self.events if isinstance(e, QuotaPool.LowBalanceAlerted)]) == (
            self.alerts
        )
        for entry in self.entries:
            self.check_as_of(entry.at)
            self.check_as_of(entry.at - timedelta(microseconds=1))


QuotaLedgerMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None
)
TestQuotaLedger = QuotaLedgerMachine.TestCase

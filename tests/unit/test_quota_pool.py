"""The quota pool on its own (no I/O): Q2, Q4, Q5, Q7, Q9, Q10, Q11, Q12.

Each test drives ``QuotaPool`` directly and reads what it recorded with ``collect_events()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from smsplat.domain.errors import (
    InsufficientQuota,
    InvalidInput,
    NotFound,
    NotRefundable,
    QuotaConflict,
)
from smsplat.domain.ledger import Balance, EntryKind, LedgerEntry, Reference, balance_of
from smsplat.domain.products import Product
from smsplat.domain.quota import QuotaPool, entry_from_event, quota_pool_id

BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
PHONE = "13800138000"
OP = "operator"


def q10_text(x: int) -> str:
    """The Q10 text, written out here independently of the source."""
    return "目前账户短信数量为" + str(x) + ",短信发送将请求失败,购买短信包后可继续使用。"


def msg(ident: str) -> Reference:
    return Reference("message", ident)


def send(ident: str) -> Reference:
    return Reference("send", ident)


def new_pool(account_id: UUID | None = None, at: datetime = T0) -> QuotaPool:
    return QuotaPool.open(account_id or uuid4(), PHONE, at)


def funded_pool(units: int = 1000, at: datetime = T0) -> QuotaPool:
    """A pool with one purchase of ``units``, its events already collected."""
    pool = new_pool(at=at)
    pool.purchase("p1", units, units, OP, at)
    pool.collect_events()
    return pool


def entries_of(pool: QuotaPool, events: Sequence[Any]) -> list[LedgerEntry]:
    return [
        entry_from_event(e, pool.account_id)
        for e in events
        if isinstance(e, QuotaPool.EntryRecorded)
    ]


def alerts_of(events: Sequence[Any]) -> list[QuotaPool.LowBalanceAlerted]:
    return [e for e in events if isinstance(e, QuotaPool.LowBalanceAlerted)]


def replay(events: Sequence[Any]) -> QuotaPool:
    agg: Any = None
    for event in events:
        agg = event.mutate(agg)
    assert isinstance(agg, QuotaPool)
    return agg


def figures(pool: QuotaPool) -> tuple[int, int, int, int, int]:
    b = pool.balance
    return (b.available, b.locked, b.purchased_total, b.charged_total, b.refunded_total)


# -- Q2: no refund of a purchase ---------------------------------------------------------------


def test_Q2_refund_of_a_real_purchase_is_refused_and_records_nothing() -> None:
    pool = funded_pool(5000)
    before = figures(pool)
    version = pool.version
    with pytest.raises(NotRefundable) as refused:
        pool.refuse_refund("p1")
    assert refused.value.code == "not_refundable"
    assert pool.collect_events() == []
    assert figures(pool) == before
    assert pool.version == version
    assert pool.has_purchase("p1")


def test_Q2_refund_of_an_unknown_purchase_is_not_found_and_records_nothing() -> None:
    pool = funded_pool()
    before = figures(pool)
    with pytest.raises(NotFound) as refused:
        pool.refuse_refund("no-such-purchase")
    assert refused.value.code == "not_found"
    assert pool.collect_events() == []
    assert figures(pool) == before


# -- Q4: one pool, every product --------------------------------------------------------------


def test_Q4_each_charge_records_its_product_and_one_pool_serves_all() -> None:
    pool = funded_pool(1000)
    products: list[str | None] = [Product.SITE, Product.MALL, Product.MINIAPP, None]
    for i, product in enumerate(products):
        pool.charge(msg(f"m{i}"), i + 1, product, OP, T0)
    entries = entries_of(pool, pool.collect_events())
    assert [(e.kind, e.product, e.units) for e in entries] == [
        (EntryKind.CHARGE, "site", 1),
        (EntryKind.CHARGE, "mall", 2),
        (EntryKind.CHARGE, "miniapp", 3),
        (EntryKind.CHARGE, None, 4),
    ]
    assert pool.available == 1000 - 10
    assert pool.charged_total == 10


def test_Q4_lock_and_charge_of_a_lock_record_the_product() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 10, Product.FLYER, OP, T0)
    pool.charge_lock("s1", 8, Product.FLYER, OP, T0)
    entries = entries_of(pool, pool.collect_events())
    assert [(e.kind, e.product) for e in entries] == [
        (EntryKind.LOCK, "flyer"),
        (EntryKind.CHARGE, "flyer"),
        (EntryKind.RELEASE, "flyer"),
    ]


def test_Q4_the_pool_id_is_one_per_account() -> None:
    account_a, account_b = uuid4(), uuid4()
    assert quota_pool_id(account_a) == quota_pool_id(account_a)
    assert quota_pool_id(account_a) != quota_pool_id(account_b)
    assert new_pool(account_a).id == quota_pool_id(account_a)
    assert new_pool(account_a).account_id == str(account_a)


# -- Q5: charge at submission, lock for a scheduled send ----------------------------------------


def test_Q5_charge_takes_units_from_available_at_once() -> None:
    pool = funded_pool(1000)
    pool.charge(msg("m1"), 2, Product.SITE, OP, T0)
    assert figures(pool) == (998, 0, 1000, 2, 0)
    (entry,) = entries_of(pool, pool.collect_events())
    assert entry.kind is EntryKind.CHARGE
    assert entry.units == 2
    assert entry.from_lock is False
    assert entry.available_after == 998
    assert entry.locked_after == 0


def test_Q5_lock_holds_units_available_drops_locked_rises() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 300, Product.MALL, OP, T0)
    assert figures(pool) == (700, 300, 1000, 0, 0)
    assert pool.locks == {"s1": 300}
    (entry,) = entries_of(pool, pool.collect_events())
    assert (entry.kind, entry.units, entry.reference) == (EntryKind.LOCK, 300, send("s1"))
    assert (entry.available_after, entry.locked_after) == (700, 300)


def test_Q5_charge_lock_turns_the_whole_lock_into_a_charge() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 300, Product.MALL, OP, T0)
    pool.collect_events()
    pool.charge_lock("s1", 300, Product.MALL, OP, T0)
    assert figures(pool) == (700, 0, 1000, 300, 0)
    assert pool.locks == {}
    (entry,) = entries_of(pool, pool.collect_events())
    assert entry.kind is EntryKind.CHARGE
    assert entry.from_lock is True
    assert entry.related == send("s1")
    assert (entry.available_after, entry.locked_after) == (700, 0)


def test_Q5_charge_lock_releases_the_remainder_in_the_same_command() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 300, Product.MALL, OP, T0)
    pool.collect_events()
    pool.charge_lock("s1", 120, Product.MALL, OP, T0 + timedelta(hours=2))
    assert figures(pool) == (880, 0, 1000, 120, 0)
    assert pool.locks == {}
    charge, release = entries_of(pool, pool.collect_events())
    assert (charge.kind, charge.units, charge.from_lock) == (EntryKind.CHARGE, 120, True)
    assert (charge.available_after, charge.locked_after) == (700, 180)
    assert (release.kind, release.units, release.from_lock) == (EntryKind.RELEASE, 180, False)
    assert (release.available_after, release.locked_after) == (880, 0)
    assert release.reference == send("s1")
    assert charge.at == release.at == T0 + timedelta(hours=2)
    with pytest.raises(QuotaConflict):
        pool.release("s1", OP, T0 + timedelta(hours=3))


def test_Q5_charging_more_than_locked_is_refused_and_records_nothing() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 300, Product.MALL, OP, T0)
    pool.collect_events()
    with pytest.raises(QuotaConflict):
        pool.charge_lock("s1", 301, Product.MALL, OP, T0)
    assert pool.collect_events() == []
    assert figures(pool) == (700, 300, 1000, 0, 0)
    assert pool.locks == {"s1": 300}


def test_Q5_charging_an_unknown_lock_is_refused() -> None:
    pool = funded_pool(1000)
    with pytest.raises(QuotaConflict):
        pool.charge_lock("nope", 1, Product.SITE, OP, T0)
    assert pool.collect_events() == []
    assert figures(pool) == (1000, 0, 1000, 0, 0)


def test_Q5_a_second_lock_for_the_same_send_is_refused() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 10, Product.SITE, OP, T0)
    pool.collect_events()
    with pytest.raises(QuotaConflict):
        pool.lock("s1", 10, Product.SITE, OP, T0)
    assert pool.collect_events() == []
    assert figures(pool) == (990, 10, 1000, 0, 0)


# -- Q9: low-balance alert, once --------------------------------------------------------------


def test_Q9_alert_once_when_a_charge_takes_available_below_30() -> None:
    pool = funded_pool(1000)
    pool.charge(msg("m1"), 970, Product.SITE, OP, T0)
    assert alerts_of(pool.collect_events()) == []  # 30 left: not below 30
    pool.charge(msg("m2"), 1, Product.SITE, OP, T0 + timedelta(minutes=1))
    events = pool.collect_events()
    (alert,) = alerts_of(events)
    assert alert.available == 29
    assert alert.phone == PHONE
    assert alert.timestamp == T0 + timedelta(minutes=1)
    assert isinstance(events[0], QuotaPool.UnitsCharged)  # the entry comes first
    pool.charge(msg("m3"), 1, Product.SITE, OP, T0 + timedelta(minutes=2))
    pool.charge(msg("m4"), 28, Product.SITE, OP, T0 + timedelta(minutes=3))
    assert alerts_of(pool.collect_events()) == []
    assert pool.available == 0


def test_Q9_alert_when_a_lock_takes_available_below_30() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 990, Product.MALL, OP, T0)
    (alert,) = alerts_of(pool.collect_events())
    assert alert.available == 10
    assert alert.phone == PHONE
    pool.lock("s2", 5, Product.MALL, OP, T0)
    pool.charge(msg("m1"), 5, Product.MALL, OP, T0)
    assert alerts_of(pool.collect_events()) == []


def test_Q9_not_rearmed_by_refund_or_release_only_by_the_next_purchase() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 100, Product.SITE, OP, T0)
    pool.charge(msg("m1"), 880, Product.SITE, OP, T0)
    assert len(alerts_of(pool.collect_events())) == 1  # 20 available
    pool.release("s1", OP, T0)
    pool.refund(msg("r1"), msg("m1"), 500, Product.SITE, OP, T0)
    pool.charge(msg("m2"), 610, Product.SITE, OP, T0)  # 620 -> 10
    assert alerts_of(pool.collect_events()) == []
    pool.purchase("p2", 1000, 1000, OP, T0)
    assert alerts_of(pool.collect_events()) == []  # a purchase never alerts
    pool.charge(msg("m3"), 990, Product.SITE, OP, T0)  # 1010 -> 20
    (alert,) = alerts_of(pool.collect_events())
    assert alert.available == 20


def test_Q9_charge_of_a_lock_does_not_alert() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 960, Product.SITE, OP, T0)  # 40 left: no alert
    pool.charge_lock("s1", 960, Product.SITE, OP, T0)
    assert alerts_of(pool.collect_events()) == []


def test_Q9_an_account_that_never_bought_gets_no_alert() -> None:
    pool = new_pool()
    pool.collect_events()
    attempts: list[Callable[[], None]] = [
        lambda: pool.charge(msg("m1"), 1, None, OP, T0),
        lambda: pool.lock("s1", 1, None, OP, T0),
    ]
    for attempt in attempts:
        with pytest.raises(InsufficientQuota):
            attempt()
    assert pool.collect_events() == []
    assert pool.alert_armed is False


def test_Q9_alert_state_survives_replay() -> None:
    pool = new_pool()
    pool.purchase("p1", 1000, 1000, OP, T0)
    pool.charge(msg("m1"), 980, None, OP, T0)
    events = list(pool.collect_events())
    assert len(alerts_of(events)) == 1
    replayed = replay(events)
    assert replayed.alert_armed is False
    replayed.charge(msg("m2"), 1, None, OP, T0)
    assert alerts_of(replayed.collect_events()) == []


# -- Q10: refused whole, with the exact text ------------------------------------------------------


@pytest.mark.parametrize("units", [1001, 5000])
def test_Q10_refused_charge_states_available_units_and_changes_nothing(units: int) -> None:
    pool = funded_pool(1000)
    before, version = figures(pool), pool.version
    with pytest.raises(InsufficientQuota) as refused:
        pool.charge(msg("m1"), units, Product.SITE, OP, T0)
    assert refused.value.detail == (
        "目前账户短信数量为1000,短信发送将请求失败,购买短信包后可继续使用。"
    )
    assert refused.value.code == "insufficient_quota"
    assert refused.value.available == 1000
    assert pool.collect_events() == []
    assert figures(pool) == before
    assert pool.version == version


def test_Q10_refused_lock_states_available_units_and_changes_nothing() -> None:
    pool = funded_pool(1000)
    pool.charge(msg("m1"), 995, Product.SITE, OP, T0)
    pool.collect_events()
    before = figures(pool)
    with pytest.raises(InsufficientQuota) as refused:
        pool.lock("s1", 6, Product.SITE, OP, T0)
    assert refused.value.detail == q10_text(5)
    assert pool.collect_events() == []
    assert figures(pool) == before
    assert pool.locks == {}


def test_Q10_locked_units_are_not_available() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 600, Product.SITE, OP, T0)
    pool.collect_events()
    with pytest.raises(InsufficientQuota) as refused:
        pool.charge(msg("m1"), 401, Product.SITE, OP, T0)
    assert refused.value.detail == q10_text(400)
    pool.charge(msg("m1"), 400, Product.SITE, OP, T0)  # exactly what is available
    assert figures(pool) == (0, 600, 1000, 400, 0)


def test_Q10_empty_pool_states_zero() -> None:
    pool = new_pool()
    pool.collect_events()
    with pytest.raises(InsufficientQuota) as refused:
        pool.charge(msg("m1"), 1, Product.SITE, OP, T0)
    assert refused.value.detail == q10_text(0)
    assert refused.value.available == 0
    assert pool.collect_events() == []


# -- Q11: release of a lock ------------------------------------------------------------------


def test_Q11_release_returns_the_locked_units_to_available() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 250, Product.LITE, OP, T0)
    pool.collect_events()
    assert pool.release("s1", "acct", T0 + timedelta(minutes=5)) == 250
    assert figures(pool) == (1000, 0, 1000, 0, 0)
    assert pool.locks == {}
    (entry,) = entries_of(pool, pool.collect_events())
    assert (entry.kind, entry.units, entry.reference) == (EntryKind.RELEASE, 250, send("s1"))
    assert entry.actor == "acct"
    assert (entry.available_after, entry.locked_after) == (1000, 0)


def test_Q11_release_of_one_lock_leaves_the_others() -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 100, None, OP, T0)
    pool.lock("s2", 200, None, OP, T0)
    pool.release("s1", OP, T0)
    assert pool.locks == {"s2": 200}
    assert figures(pool) == (800, 200, 1000, 0, 0)


@pytest.mark.parametrize("how", ["unknown", "released", "charged"])
def test_Q11_releasing_an_unknown_or_closed_lock_is_a_conflict(how: str) -> None:
    pool = funded_pool(1000)
    if how != "unknown":
        pool.lock("s1", 100, None, OP, T0)
        if how == "released":
            pool.release("s1", OP, T0)
        else:
            pool.charge_lock("s1", 100, None, OP, T0)
    pool.collect_events()
    before = figures(pool)
    with pytest.raises(QuotaConflict):
        pool.release("s1", OP, T0)
    assert pool.collect_events() == []
    assert figures(pool) == before


# -- Q7: refunds -------------------------------------------------------------------------------


def test_Q7_refund_adds_to_available_and_refunded_total() -> None:
    pool = funded_pool(1000)
    pool.charge(send("s1"), 10, Product.SITE, OP, T0)
    pool.collect_events()
    pool.refund(msg("m7"), send("s1"), 2, Product.SITE, "system", T0)
    assert figures(pool) == (992, 0, 1000, 10, 2)
    (entry,) = entries_of(pool, pool.collect_events())
    assert entry.kind is EntryKind.REFUND
    assert entry.reference == msg("m7")
    assert entry.related == send("s1")
    assert entry.product == "site"
    assert entry.actor == "system"
    assert entry.available_after == 992


def test_Q7_refund_beyond_the_total_charged_is_a_conflict() -> None:
    pool = funded_pool(1000)
    pool.charge(msg("m1"), 2, None, OP, T0)
    pool.charge(msg("m2"), 2, None, OP, T0)
    pool.refund(msg("m1"), msg("m1"), 2, None, OP, T0)
    pool.collect_events()
    with pytest.raises(QuotaConflict):
        pool.refund(msg("m2"), msg("m2"), 3, None, OP, T0)
    assert pool.collect_events() == []
    assert figures(pool) == (998, 0, 1000, 4, 2)
    pool.refund(msg("m2"), msg("m2"), 2, None, OP, T0)  # exactly the rest is fine
    assert figures(pool) == (1000, 0, 1000, 4, 4)
    with pytest.raises(QuotaConflict):
        pool.refund(msg("m3"), msg("m2"), 1, None, OP, T0)


def test_Q7_refund_with_nothing_charged_is_a_conflict() -> None:
    pool = funded_pool(1000)
    with pytest.raises(QuotaConflict):
        pool.refund(msg("m1"), msg("m1"), 1, None, OP, T0)
    assert pool.collect_events() == []


# -- invalid input ----------------------------------------------------------------------------

BAD_UNITS: list[Any] = [0, -1, True, False, 1.5, 2.0, "1", None]


@pytest.mark.parametrize("units", BAD_UNITS, ids=repr)
def test_invalid_units_are_refused_by_every_command(units: Any) -> None:
    pool = funded_pool(1000)
    pool.lock("s1", 10, None, OP, T0)
    pool.charge(msg("m0"), 10, None, OP, T0)
    pool.collect_events()
    before = figures(pool)
    commands: list[Callable[[], object]] = [
        lambda: pool.purchase("p2", 1000, units, OP, T0),
        lambda: pool.charge(msg("m1"), units, None, OP, T0),
        lambda: pool.lock("s2", units, None, OP, T0),
        lambda: pool.charge_lock("s1", units, None, OP, T0),
        lambda: pool.refund(msg("m0"), msg("m0"), units, None, OP, T0),
    ]
    for command in commands:
        with pytest.raises(InvalidInput) as refused:
            command()
        assert refused.value.code == "validation_error"
    assert pool.collect_events() == []
    assert figures(pool) == before
    assert pool.locks == {"s1": 10}
    assert not pool.has_purchase("p2")


def test_duplicate_purchase_id_is_a_conflict() -> None:
    pool = funded_pool(1000)
    with pytest.raises(QuotaConflict):
        pool.purchase("p1", 5000, 5000, OP, T0)
    assert pool.collect_events() == []
    assert figures(pool) == (1000, 0, 1000, 0, 0)
    pool.purchase("p2", 5000, 5000, OP, T0)
    assert pool.purchased_total == 6000


def test_Q12_timezone_naive_times_are_refused() -> None:
    pool = funded_pool(1000)
    with pytest.raises(ValueError):
        pool.charge(msg("m1"), 1, None, OP, datetime(2026, 3, 2, 9, 0))
    assert pool.collect_events() == []
    assert pool.available == 1000


# -- Q12: immutable, complete, replayable entries ---------------------------------------------


def busy_pool() -> tuple[QuotaPool, list[Any]]:
    """One of every kind of entry, at increasing times; returns the pool and all its events."""
    pool = new_pool()
    t = T0
    pool.purchase("p1", 1000, 1000, "op-1", t)
    pool.lock("s1", 50, Product.MALL, "acct", t + timedelta(minutes=1))
    pool.lock("s2", 40, Product.EDU, "acct", t + timedelta(minutes=2))
    pool.charge(msg("m1"), 2, Product.SITE, "acct", t + timedelta(minutes=3))
    pool.charge_lock("s1", 30, Product.MALL, "worker", t + timedelta(minutes=4))
    pool.refund(msg("m1"), msg("m1"), 2, Product.SITE, "worker", t + timedelta(minutes=5))
    pool.release("s2", "acct", t + timedelta(minutes=6))
    pool.purchase("p2", 5000, 5000, "op-2", t + timedelta(minutes=7))
    return pool, list(pool.collect_events())


def test_Q12_every_entry_event_carries_what_when_why_which_and_who() -> None:
    _, events = busy_pool()
    entry_events = [e for e in events if isinstance(e, QuotaPool.EntryRecorded)]
    assert [e.kind for e in entry_events] == [
        "purchase",
        "lock",
        "lock",
        "charge",
        "charge",
        "release",
        "refund",
        "release",
        "purchase",
    ]
    assert [e.reference for e in entry_events] == [
        "purchase:p1",
        "send:s1",
        "send:s2",
        "message:m1",
        "send:s1",
        "send:s1",
        "message:m1",
        "send:s2",
        "purchase:p2",
    ]
    assert [e.product for e in entry_events] == [
        None,
        "mall",
        "edu",
        "site",
        "mall",
        "mall",
        "site",
        None,
        None,
    ]
    assert [e.actor for e in entry_events] == [
        "op-1",
        "acct",
        "acct",
        "acct",
        "worker",
        "worker",
        "worker",
        "acct",
        "op-2",
    ]
    minutes = [0, 1, 2, 3, 4, 4, 5, 6, 7]
    assert [e.timestamp for e in entry_events] == [T0 + timedelta(minutes=m) for m in minutes]
    assert all(e.entry_id for e in entry_events)
    assert len({e.entry_id for e in entry_events}) == len(entry_events)
    assert [e.units for e in entry_events] == [1000, 50, 40, 2, 30, 20, 2, 40, 5000]
    purchases = [e for e in entry_events if isinstance(e, QuotaPool.PackagePurchased)]
    assert [p.package_size for p in purchases] == [1000, 5000]


def test_Q12_entry_from_event_gives_the_ledger_entry() -> None:
    _, events = busy_pool()
    charge_event = next(e for e in events if isinstance(e, QuotaPool.UnitsCharged) and e.from_lock)
    entry = entry_from_event(charge_event, "acct-42")
    assert entry == LedgerEntry(
        entry_id=charge_event.entry_id,
        account_id="acct-42",
        sequence=charge_event.originator_version,
        at=T0 + timedelta(minutes=4),
        kind=EntryKind.CHARGE,
        units=30,
        reference=send("s1"),
        product="mall",
        actor="worker",
        from_lock=True,
        related=send("s1"),
        available_after=1000 - 50 - 40 - 2,
        locked_after=60,
    )
    assert entry.available_change == 0
    assert entry.locked_change == -30
    refund_event = next(e for e in events if isinstance(e, QuotaPool.UnitsRefunded))
    refund = entry_from_event(refund_event, "acct-42")
    assert refund.related == msg("m1")
    assert refund.available_change == 2
    assert refund.sequence == refund_event.originator_version


def test_Q12_replaying_the_events_gives_the_same_pool() -> None:
    pool, events = busy_pool()
    replayed = replay(events)
    assert replayed.balance == pool.balance
    assert figures(replayed) == (5970, 0, 6000, 32, 2)
    assert replayed.locks == pool.locks == {}
    assert replayed.purchases == {"p1": 1000, "p2": 5000}
    assert replayed.alert_armed is pool.alert_armed is True
    assert replayed.version == pool.version
    assert replayed.last_at == pool.last_at == T0 + timedelta(minutes=7)


def test_Q12_replay_keeps_open_locks_and_partly_charged_state() -> None:
    pool = new_pool()
    pool.purchase("p1", 1000, 1000, OP, T0)
    pool.lock("s1", 10, None, OP, T0)
    pool.lock("s2", 20, None, OP, T0)
    pool.release("s1", OP, T0)
    replayed = replay(pool.collect_events())
    assert replayed.locks == {"s2": 20}
    assert figures(replayed) == (980, 20, 1000, 0, 0)
    replayed.charge_lock("s2", 5, None, OP, T0)
    assert figures(replayed) == (995, 0, 1000, 5, 0)
    with pytest.raises(QuotaConflict):
        replayed.release("s1", OP, T0)


def test_Q12_balance_of_the_entries_is_the_pool_balance() -> None:
    pool, events = busy_pool()
    entries = entries_of(pool, events)
    assert balance_of(entries) == pool.balance
    assert balance_of(entries) == Balance(5970, 0, 6000, 32, 2)
    assert pool.balance.is_consistent()
    for i, entry in enumerate(entries):
        partial = balance_of(entries[: i + 1])
        assert (partial.available, partial.locked) == (entry.available_after, entry.locked_after)
    assert [e.sequence for e in entries] == sorted({e.sequence for e in entries})


def test_Q12_entry_times_never_go_backwards_when_the_clock_steps_back() -> None:
    pool = new_pool()
    late = T0 + timedelta(hours=1)
    pool.purchase("p1", 1000, 1000, OP, late)
    pool.charge(msg("m1"), 1, None, OP, T0)  # the clock stepped back an hour
    pool.lock("s1", 975, None, OP, late - timedelta(seconds=1))  # alert too
    pool.charge(msg("m2"), 1, None, OP, late + timedelta(seconds=5))
    pool.charge(msg("m3"), 1, None, OP, late)  # back again
    events = pool.collect_events()
    stamps = [e.timestamp for e in events if not isinstance(e, QuotaPool.Opened)]
    assert stamps == [
        late,
        late,
        late,
        late,
        late + timedelta(seconds=5),
        late + timedelta(seconds=5),
    ]
    assert len(alerts_of(events)) == 1


def test_Q12_as_of_a_past_instant_from_entries() -> None:
    pool, events = busy_pool()
    entries = entries_of(pool, events)
    as_of = T0 + timedelta(minutes=4, seconds=30)
    upto = [e for e in entries if e.at <= as_of]
    # purchase 1000, locks 50 and 40, charge 2, charge 30 of s1 and release its 20
    assert balance_of(upto) == Balance(
        available=1000 - 50 - 40 - 2 + 20,
        locked=40,
        purchased_total=1000,
        charged_total=32,
        refunded_total=0,
    )


def test_Q12_no_entry_is_dated_before_its_pool_opened() -> None:
    """Q12: an entry whose clock reads earlier than the pool's opening is dated at the opening."""
    pool = new_pool(at=T0)
    pool.purchase("p1", 1000, 1000, OP, T0 - timedelta(hours=1))
    (entry,) = entries_of(pool, pool.collect_events())
    assert entry.at == T0


def test_Q12_a_pool_refuses_a_time_without_offset() -> None:
    with pytest.raises(ValueError):
        QuotaPool.open(uuid4(), PHONE, datetime(2026, 3, 2, 9, 0))

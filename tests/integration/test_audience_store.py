"""The audience context on the real stores (SQLite and PostgreSQL): synced customers (S4),
opt-outs from carrier replies (beyond the original), their read models, and a rebuild."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from smsplat.adapters.clock import SimulatedClock
from smsplat.adapters.log_follower import LogFollower
from smsplat.adapters.sql import SqlDatabase
from smsplat.commands.audience import AudienceApp
from smsplat.commands.command_types import RecordReplies
from smsplat.commands.replies import RecentMarketing, ReplyRecorder
from smsplat.domain.audience import customer_id
from smsplat.domain.errors import InvalidInput, InvalidPhone, NotFound
from smsplat.infra.event_store import event_store_env, read_store
from smsplat.projections import audience as audience_views
from smsplat.projections.audience import AudienceQueries, CustomersReadModel, OptOutsReadModel
from smsplat.projections.read_model_set import ReadModelSet

from tests.conftest import START

A = UUID("00000000-0000-4000-8000-0000000000a1")
B = UUID("00000000-0000-4000-8000-0000000000b2")
C = UUID("00000000-0000-4000-8000-0000000000c3")


@dataclass
class Audience:
    url: str
    clock: SimulatedClock
    app: AudienceApp
    db: SqlDatabase
    follower: LogFollower
    views: AudienceQueries
    extra_apps: list[AudienceApp] = field(default_factory=list)

    def another_app(self) -> AudienceApp:
        """A second application on the same store (another process's worth: its own cache)."""
        app = AudienceApp(event_store_env(self.url, 4), self.clock)
        self.extra_apps.append(app)
        return app

    def settle(self) -> None:
        self.follower.catch_up()

    def tables(self) -> dict[str, list[tuple[object, ...]]]:
        with self.db.reading() as tx:
            return {
                "customers": tx.execute(
                    "SELECT * FROM customers ORDER BY account_id, product, phone, condition"
                ),
                "opt_outs": tx.execute("SELECT * FROM opt_outs ORDER BY account_id, phone"),
            }


@pytest.fixture
def audience(store_url: str) -> Iterator[Audience]:
    clock = SimulatedClock(START)
    app = AudienceApp(event_store_env(store_url, 4), clock)
    db = read_store(store_url)
    models = ReadModelSet("audience", [CustomersReadModel(), OptOutsReadModel()], db)
    follower = LogFollower(app, models)
    models.create_tables()
    ctx = Audience(store_url, clock, app, db, follower, AudienceQueries(db))
    try:
        yield ctx
    finally:
        for extra in ctx.extra_apps:
            extra.close()
        app.close()
        db.close()


@dataclass
class FakeRecentMarketing:
    """``RecentMarketing`` over a list of (phone, account, sent at)."""

    sent: list[tuple[str, UUID, datetime]] = field(default_factory=list)
    asked: list[tuple[str, datetime]] = field(default_factory=list)

    def accounts_that_sent(self, phone: str, since: datetime, until: datetime) -> list[str]:
        self.asked.append((phone, since))
        return [str(a) for p, a, at in self.sent if p == phone and since <= at <= until]


def _as_port(fake: FakeRecentMarketing) -> RecentMarketing:
    return fake  # checks that the fake satisfies the port


def phone(i: int) -> str:
    return f"1380000{i:04d}"


def topics(app: AudienceApp) -> list[str]:
    """The stored events' classes, e.g. ``Customer.Synced``, in the order of the log."""
    notifications = app.recorder.select_notifications(start=None, limit=10**6)
    return [n.topic.rsplit(":", 1)[-1] for n in notifications]


# -- S4: synced customers ---------------------------------------------------------------------


def test_S4_synced_customers_are_queried_by_condition(audience: Audience) -> None:
    app, clock, views = audience.app, audience.clock, audience.views
    # phone 1: a site member, later also a game player; phone 2 a game player; phone 3 books
    first, created = app.sync_customer(A, "site_member", phone(1), "site", "张三", "operator")
    assert created and first.phone == phone(1)
    clock.advance(60)
    app.sync_customer(A, "game_player", "+86 138 0000 0002", "interactive", None, "operator")
    clock.advance(60)
    app.sync_customer(A, "game_player", phone(1), "interactive", None, "account:a")
    clock.advance(60)
    app.sync_customer(A, "miniapp_booking", phone(3), "miniapp", "王五", "operator")
    app.sync_customer(B, "site_member", phone(4), "site", None, "operator")  # another account
    clock.advance(60)
    # a repeated sync is the same customer: no new one, and a new name renames it
    again, created = app.sync_customer(A, "site_member", phone(1), "site", None, "operator")
    assert not created and again.id == first.id and again.name == "张三"
    renamed, created = app.sync_customer(A, "site_member", phone(1), "site", "张三丰", "op")
    assert not created and renamed.name == "张三丰"
    # the same phone and condition from another product is another customer
    _, created = app.sync_customer(A, "site_member", phone(1), "mall", None, "operator")
    assert created
    audience.settle()

    assert views.numbers(str(A), ["site_member"]) == [phone(1)]
    assert views.numbers(str(A), ["game_player"]) == [phone(2), phone(1)]
    assert views.numbers(str(A), ["game_player", "site_member"]) == [phone(1), phone(2)]
    assert views.numbers(str(A), ["miniapp_booking", "game_player", "site_member"]) == [
        phone(1), phone(2), phone(3),
    ]  # fmt: skip
    assert views.numbers(str(A), []) == []
    assert views.numbers(str(B), ["game_player"]) == []
    assert views.numbers(str(C), ["site_member"]) == []
    with pytest.raises(InvalidInput):
        views.numbers(str(A), ["vip"])

    assert views.count_by_condition(str(A)) == {
        "game_player": 2, "site_member": 2, "miniapp_booking": 1,
    }  # fmt: skip
    assert views.count_by_condition(str(C)) == {
        "game_player": 0, "site_member": 0, "miniapp_booking": 0,
    }  # fmt: skip
    rows = views.customers(str(A))
    assert [(r.phone, r.condition, r.product, r.name) for r in rows] == [
        (phone(1), "site_member", "site", "张三丰"),
        (phone(2), "game_player", "interactive", None),
        (phone(1), "game_player", "interactive", None),
        (phone(3), "miniapp_booking", "miniapp", "王五"),
        (phone(1), "site_member", "mall", None),
    ]
    assert rows[0].customer_id == str(first.id)
    assert rows[0].synced_at == START  # the first sync's time, kept by a rename
    assert [r.phone for r in views.customers(str(A), "game_player")] == [phone(2), phone(1)]
    assert [r.phone for r in views.customers(str(A), limit=2, offset=3)] == [phone(3), phone(1)]
    assert topics(app).count("Customer.Renamed") == 1
    assert app.customer(first.id).name == "张三丰"
    with pytest.raises(NotFound):
        app.customer(first.id, owner=B)


def test_S4_concurrent_duplicate_syncs_make_one_customer(audience: Audience) -> None:
    """Eight writers in two applications (two processes' worth) sync the same customer at
    once: none fails, exactly one creates it, all get the same customer."""
    apps = [audience.app, audience.another_app()]
    barrier = threading.Barrier(8)
    results: list[tuple[UUID, bool]] = []
    errors: list[BaseException] = []

    def sync(app: AudienceApp) -> None:
        try:
            barrier.wait()
            customer, created = app.sync_customer(
                A, "game_player", phone(7), "interactive", None, "operator"
            )
            results.append((customer.id, created))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sync, args=(apps[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    expected = customer_id(A, "interactive", phone(7), "game_player")
    assert {ident for ident, _ in results} == {expected}
    assert sum(created for _, created in results) == 1
    assert topics(audience.app).count("Customer.Synced") == 1
    audience.settle()
    assert audience.views.numbers(str(A), ["game_player"]) == [phone(7)]


def test_S4_a_bad_customer_is_refused_and_nothing_stored(audience: Audience) -> None:
    app = audience.app
    with pytest.raises(InvalidPhone):
        app.sync_customer(A, "site_member", "12345", "site", None, "operator")
    with pytest.raises(InvalidInput):
        app.sync_customer(A, "vip", phone(1), "site", None, "operator")
    with pytest.raises(InvalidInput):
        app.sync_customer(A, "site_member", phone(1), "shop", None, "operator")
    assert topics(app) == []


# -- opt-outs ---------------------------------------------------------------------------------


def test_opt_out_replies_with_and_without_the_account(audience: Audience) -> None:
    app, clock, views = audience.app, audience.clock, audience.views
    now = clock.now()
    marketing = FakeRecentMarketing(
        [
            (phone(2), A, now - timedelta(days=3)),
            (phone(2), B, now - timedelta(days=29)),
            (phone(2), B, now - timedelta(days=1)),
            (phone(2), C, now - timedelta(days=31)),  # too long ago
            (phone(3), C, now - timedelta(days=40)),
        ]
    )
    replies: list[dict[str, object]] = [
        {"phone": phone(1), "text": " td ", "at": now, "account_id": str(A)},  # 0: A
        {"phone": "+86 138 0000 0002", "text": "退订", "at": now},  # 1: A and B
        {"phone": phone(3), "text": "Ｒ", "at": now.isoformat()},  # 2: nobody (> 30 days)
        {"phone": phone(4), "text": "好的,谢谢", "at": now, "account_id": str(A)},  # 3: ignored
        {"phone": "12345", "text": "R", "at": now, "account_id": str(A)},  # 4: bad phone
        {"phone": "+852 9123 4567", "text": "R", "at": now},  # 5: not mainland
        {"phone": phone(5), "text": "R", "at": now, "account_id": "nope"},  # 6: bad account
        {"phone": phone(5), "text": "R", "at": "yesterday"},  # 7: bad time
        {"phone": phone(5), "at": now, "account_id": str(A)},  # 8: no text
        {"phone": phone(1), "text": "T", "at": now, "account_id": str(A)},  # 9: already
    ]
    outcome = ReplyRecorder(app, _as_port(marketing), lambda _: True).record(RecordReplies(replies))
    assert (outcome.opted_out, outcome.already, outcome.ignored, outcome.unmatched) == (3, 1, 1, 1)
    assert outcome.rejected == [
        {"index": 4, "code": "invalid_phone"},
        {"index": 5, "code": "not_mainland_mobile"},
        {"index": 6, "code": "validation_error"},
        {"index": 7, "code": "validation_error"},
        {"index": 8, "code": "validation_error"},
    ]
    # only replies without an account ask who marketed, 30 days back from the reply
    assert marketing.asked == [
        (phone(2), now - timedelta(days=30)),
        (phone(3), now - timedelta(days=30)),
    ]
    # a retried delivery of the same replies changes nothing
    again = ReplyRecorder(app, marketing, lambda _: True).record(RecordReplies(replies))
    assert (again.opted_out, again.already, again.ignored, again.unmatched) == (0, 4, 1, 1)
    audience.settle()

    assert views.opted_out(str(A), [phone(i) for i in range(1, 6)]) == {phone(1), phone(2)}
    assert views.opted_out(str(B), [phone(1), phone(2)]) == {phone(2)}
    assert views.opted_out(str(C), [phone(2), phone(3)]) == set()
    assert views.opted_out(str(A), []) == set()
    assert views.is_opted_out(str(B), phone(2))
    assert not views.is_opted_out(str(B), phone(1))
    rows = views.opt_outs(str(A))
    assert sorted((r.phone, r.source, r.text) for r in rows) == [
        (phone(1), "reply", "td"),
        (phone(2), "reply", "退订"),
    ]
    assert all(r.opted_out_at == now and r.account_id == str(A) for r in rows)
    assert app.is_opted_out(A, phone(2)) and not app.is_opted_out(C, phone(2))


def test_opt_out_removed_and_opted_out_again(audience: Audience) -> None:
    app, clock, views = audience.app, audience.clock, audience.views
    assert app.opt_out(A, phone(1), "reply", "R") is True
    assert app.opt_out(A, phone(1), "account", "") is False
    clock.advance(3600)
    app.remove_opt_out(A, "+86 13800000001", "account:a")
    with pytest.raises(NotFound):
        app.remove_opt_out(A, phone(1), "account:a")  # not opted out any more
    with pytest.raises(NotFound):
        app.remove_opt_out(A, phone(2), "account:a")  # never opted out
    with pytest.raises(InvalidPhone):
        app.remove_opt_out(A, "not-a-phone", "account:a")
    with pytest.raises(InvalidPhone):
        app.remove_opt_out(A, None, "account:a")
    audience.settle()
    assert views.opt_outs(str(A)) == []
    assert not views.is_opted_out(str(A), phone(1))

    clock.advance(3600)
    reply = {"phone": phone(1), "text": "TD", "at": clock.now(), "account_id": str(A)}
    outcome = ReplyRecorder(app, FakeRecentMarketing(), lambda _: True).record(
        RecordReplies([reply])
    )
    assert outcome.opted_out == 1
    audience.settle()
    [row] = views.opt_outs(str(A))
    assert (row.phone, row.text, row.opted_out_at) == (phone(1), "TD", START + timedelta(hours=2))
    record = app.opt_out_record(A, phone(1))
    assert record is not None and record.active and record.version == 4
    assert topics(app) == [
        "OptOut.Created",
        "OptOut.OptedOut",
        "OptOut.OptOutRemoved",
        "ReceivedReply.Received",
        "OptOut.OptedOut",
    ]  # fmt: skip  (the reply is kept for its webhooks, then opts the number out)


def test_opt_out_concurrent_replies_opt_out_once(audience: Audience) -> None:
    apps = [audience.app, audience.another_app()]
    barrier = threading.Barrier(6)
    changed: list[bool] = []
    errors: list[BaseException] = []

    def reply(app: AudienceApp) -> None:
        try:
            barrier.wait()
            changed.append(app.opt_out(A, phone(9), "reply", "R"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=reply, args=(apps[i % 2],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(changed) == [False] * 5 + [True]
    assert topics(audience.app).count("OptOut.OptedOut") == 1


@pytest.mark.parametrize("whole_set_limit", [0, 5000])
def test_opt_out_checking_10000_numbers(
    audience: Audience, monkeypatch: pytest.MonkeyPatch, whole_set_limit: int
) -> None:
    """The marketing check of a 10,000-number send: by IN lists, or the account's whole list."""
    monkeypatch.setattr(audience_views, "WHOLE_SET_LIMIT", whole_set_limit)
    monkeypatch.setattr(audience_views, "IN_LIST_CHUNK", 7)  # many chunks from a few numbers
    opted = [phone(i) for i in range(0, 60, 3)]  # 20 numbers
    for number in opted:
        audience.app.opt_out(A, number, "reply", "R")
    audience.app.opt_out(B, phone(1), "reply", "R")
    audience.settle()
    views = audience.views
    asked = [phone(i) for i in range(19)]  # fewer than the opted-out: the IN lists if 0
    assert views.opted_out(str(A), asked) == {phone(i) for i in range(0, 19, 3)}
    many = [phone(i) for i in range(10_000)]
    assert views.opted_out(str(A), many) == set(opted)
    assert views.opted_out(str(A), [*many, *many]) == set(opted)
    assert views.opted_out(str(B), many) == {phone(1)}
    assert views.opted_out(str(C), many) == set()


# -- rebuild ----------------------------------------------------------------------------------


def test_rebuilt_audience_tables_equal_the_live_ones(audience: Audience) -> None:
    app, clock = audience.app, audience.clock
    conditions = ["game_player", "site_member", "miniapp_booking"]
    products = ["interactive", "site", "miniapp", "mall"]
    for i in range(60):
        k = i % 20  # each customer synced three times: no name, then two renames
        account = (A, B)[k % 2]
        name = (None, "甲", "乙")[i // 20]
        app.sync_customer(
            account, conditions[k % 3], phone(k % 11), products[k % 4], name, "operator"
        )
        if i % 4 == 0:
            app.opt_out(account, phone(i % 13), "reply", "R")
        if i % 9 == 0 and app.is_opted_out(account, phone(i % 13)):
            app.remove_opt_out(account, phone(i % 13), "operator")
        clock.advance(17)
    audience.settle()
    live = audience.tables()
    assert len(live["customers"]) == 20 and live["opt_outs"]
    audience.follower.handler.reset()  # type: ignore[attr-defined]
    assert audience.follower.catch_up() == len(topics(app))
    assert audience.tables() == live
    assert set(topics(app)) == {
        "Customer.Synced", "Customer.Renamed",
        "OptOut.Created", "OptOut.OptedOut", "OptOut.OptOutRemoved",
    }  # fmt: skip


def test_the_audience_has_its_own_event_table(audience: Audience) -> None:
    audience.app.sync_customer(A, "site_member", phone(1), "site", None, "operator")
    with audience.db.reading() as tx:
        if audience.db.dialect == "postgres":
            rows = tx.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = %s",
                ("audience_events",),
            )
        else:
            rows = tx.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = %s",
                ("audience_events",),
            )
    assert rows[0][0] == 1

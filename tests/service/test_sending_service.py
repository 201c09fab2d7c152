"""Sending through the command bus on fakes (``world.py``): acceptance, hand-over, receipts,
refunds and cancellation, as the services decide them. HTTP's own contract is tested in
``tests/e2e``; these check the behaviour behind it, without a database."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from uuid import uuid4

import pytest
from smsplat.commands.command_types import (
    ActivateProduct,
    BuyPackage,
    CancelSend,
    PlanMassSend,
    RecordReceipts,
    SendMassSend,
    SendMessage,
)
from smsplat.commands.recipient_sources import Audience, Numbers, SpreadsheetFile
from smsplat.commands.send_plan import SendPlan
from smsplat.domain.accounts import Account
from smsplat.domain.carrier_lines import MalformedReceipt, ReceiptLine, ReportedReceipt
from smsplat.domain.errors import DomainError, NoActiveProduct
from smsplat.domain.recipients import TooManyRecipients
from smsplat.domain.sending import message_id

from tests.service.world import World, world

NUMBERS = [f"1381234{n:04d}" for n in range(10, 20)]


@pytest.fixture
def w() -> World:
    return world()


def test_Q5_Q10_a_mass_send_is_charged_whole_and_handed_over_once(w: World) -> None:
    account = w.account(units=1000)
    template = w.template(account)
    accepted = w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS), None, "site", "a"))
    assert (accepted.plan.accepted, accepted.plan.units) == (10, 10)
    assert w.quota.balance(account).available == 990
    assert w.hand_over_all() == 10
    assert w.hand_over_all() == 10  # a second pass over the log hands nothing over again


def test_Q10_a_send_past_the_balance_is_refused_whole(w: World) -> None:
    account = w.account(units=1000)
    template = w.template(account)
    many = [f"139{n:08d}" for n in range(1001)]
    with pytest.raises(DomainError) as refused:
        w.bus.handle(SendMassSend(account, template, Numbers(many), None, "site", "a"))
    assert refused.value.code == "insufficient_quota"
    assert w.quota.balance(account).available == 1000  # nothing taken, nothing stored


def test_Q3_a_send_names_an_active_product(w: World) -> None:
    account = w.account(product="site")
    template = w.template(account)
    with pytest.raises(NoActiveProduct):
        w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS), None, "mall", "a"))


def test_S10_Q7_receipts_refund_each_failure_once_and_ignore_what_is_not_ours(w: World) -> None:
    account = w.account(units=1000)
    template = w.template(account)
    send = w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS), None, "site", "a")).send
    w.hand_over_all()
    first, second = message_id(send.id, 0), message_id(send.id, 1)
    lines: list[ReceiptLine] = [
        ReportedReceipt(first, "failed"),
        ReportedReceipt(first, "failed"),  # the carrier repeats itself
        ReportedReceipt(second, "delivered"),
        ReportedReceipt(message_id(send.id, 99), "failed"),  # no such message
        MalformedReceipt(None),
    ]
    outcome = w.bus.handle(RecordReceipts(lines))
    assert [a.outcome for a in outcome.answers] == [
        "recorded", "ignored", "recorded", "ignored", "ignored",
    ]  # fmt: skip
    assert outcome.refunded_units == 1 and outcome.duplicates == 1
    assert w.quota.balance(account).available == 991  # one refund, never two
    again = w.bus.handle(RecordReceipts([ReportedReceipt(first, "failed")]))
    assert again.refunded_units == 0


def test_S10_a_receipt_for_a_message_never_handed_over_refunds_nothing(w: World) -> None:
    account = w.account(units=1000)
    template = w.template(account)
    send = w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS), None, "site", "a")).send
    outcome = w.bus.handle(RecordReceipts([ReportedReceipt(message_id(send.id, 0), "failed")]))
    assert outcome.answers[0].ignored is not None
    assert outcome.answers[0].ignored.value == "not_handed_over"
    assert w.quota.balance(account).refunded_total == 0


def test_S7_Q11_cancelling_a_scheduled_send_releases_its_lock(w: World) -> None:
    account = w.account(units=1000)
    template = w.template(account)
    later = w.clock.now() + timedelta(days=1)
    command = SendMassSend(account, template, Numbers(NUMBERS), None, "site", "a", None, later)
    send = w.bus.handle(command).send
    assert w.quota.balance(account).locked == 10
    w.bus.handle(CancelSend(send.id, "a"))
    balance = w.quota.balance(account)
    assert (balance.locked, balance.available) == (0, 1000)
    assert w.hand_over_all() == 0


def test_S4_an_audience_send_fills_name_from_each_customer(w: World) -> None:
    account = w.account(units=1000)
    template = w.template(account, content="#name#您好，会员日到店有礼。")
    w.audience_directory.customers[(str(account), "site_member")] = [
        ("13812340001", "王"), ("13812340002", None),
    ]  # fmt: skip
    source = Audience({"conditions": ["site_member"]})
    plan = w.bus.handle(
        PlanMassSend(SendMassSend(account, template, source, {"name": "顾客"}, "site", "a"))
    )
    assert plan.accepted == 2
    send = w.bus.handle(SendMassSend(account, template, source, {"name": "顾客"}, "site", "a"))
    assert [send.send.text_of(i) for i in range(2)] == [
        "【花店】王您好，会员日到店有礼。", "【花店】顾客您好，会员日到店有礼。",
    ]  # fmt: skip


def test_S3_an_upload_is_read_through_the_sheets_port(w: World) -> None:
    account = w.account(units=1000)
    template = w.template(account, content="#name#您好，会员日到店有礼。")
    upload = SpreadsheetFile("13812340001,李\n12345\n".encode())
    plan = w.bus.handle(
        PlanMassSend(SendMassSend(account, template, upload, {"name": "顾客"}, "site", "a"))
    )
    assert plan.accepted == 1 and [r.position for r in plan.rejected] == [3]  # its row


def test_Q5_a_business_message_is_charged_on_its_own_message(w: World) -> None:
    account = w.account(units=1000)
    template = w.template(account, type="business", kind=None, scenario="register", content=None)
    command = SendMessage(account, template, "13812340001", {"code": "123456"}, "site", "a")
    accepted = w.bus.handle(command)
    assert accepted.send.units_charged == 1
    assert w.hand_over_all() == 1
    assert w.carrier.given[0].text.startswith("【花店】")


def test_S2_S4_an_audience_of_more_than_10000_distinct_numbers_is_refused_whole(w: World) -> None:
    """Moved from the HTTP tests (36 s there, syncing 10,001 customers into PostgreSQL): the
    rule is the service's; the read model's distinct count is tested on the real store."""
    account = w.account(units=10_000)
    template = w.template(account)
    numbers = [f"1390000{n:04d}" for n in range(10_000)]
    w.audience_directory.customers[(str(account), "site_member")] = [(p, None) for p in numbers]
    w.audience_directory.customers[(str(account), "game_player")] = [(numbers[0], None)]
    both = Audience({"conditions": ["site_member", "game_player"]})

    def plan(source: Audience) -> SendPlan:
        mass = SendMassSend(account, template, source, None, "site", "a")
        planned: SendPlan = w.bus.handle(PlanMassSend(mass))
        return planned

    assert (plan(both).accepted, plan(both).units) == (10_000, 10_000)  # 10,000 distinct
    w.audience_directory.customers[(str(account), "game_player")].append(("13700000000", None))
    with pytest.raises(TooManyRecipients):
        plan(both)
    with pytest.raises(TooManyRecipients):
        w.bus.handle(SendMassSend(account, template, both, None, "site", "a"))
    assert w.quota.balance(account).available == 10_000  # nothing taken, nothing stored
    assert plan(Audience({"conditions": ["site_member"]})).accepted == 10_000


def test_an_account_older_than_extension_codes_gets_one_at_its_next_send(w: World) -> None:
    legacy = uuid4()
    w.accounts.save(Account.create(legacy, "老店", "13800138000", "x", "operator", w.clock.now()))
    w.bus.handle(ActivateProduct(legacy, "site", "a"))
    w.bus.handle(BuyPackage(legacy, 1000, "p-legacy", "a"))
    template = w.template(legacy)
    assert w.accounts.known_extension(legacy) is None
    plan = SendMassSend(legacy, template, Numbers(NUMBERS), None, "site", "a")
    w.bus.handle(PlanMassSend(plan))
    assert w.accounts.known_extension(legacy) is None  # a dry run stores nothing
    send = w.bus.handle(plan).send
    assert send.extension == w.accounts.known_extension(legacy) == "0001"
    w.hand_over_all()
    assert {m.extension for m in w.carrier.given} == {"0001"}


def test_S5_Q7_a_carrier_taking_several_batches_at_once_gets_each_message_once(w: World) -> None:
    """A carrier whose own records bound what a crash resends (SMPP's journal) takes several
    batches per claim: 750 numbers in claims of 3 batches are 3 calls, each message once, and
    the refused ones are refunded with their batch."""
    w.carrier.batches_per_claim = 3
    w.carrier.refuse = {"13900000007", "13900000420"}
    account = w.account(units=1000)
    template = w.template(account)
    many = [f"139{n:08d}" for n in range(750)]
    send = w.bus.handle(SendMassSend(account, template, Numbers(many), None, "site", "a")).send
    assert w.hand_over_all() == 750
    assert w.carrier.calls == [300, 300, 150]
    assert sorted(m.phone for m in w.carrier.given) == many
    assert w.quota.balance(account).available == 1000 - 750 + 2
    handed = w.quota.send(send.id)
    assert handed.next_batch is None and handed.claim is None
    assert handed.counts()["failed"] == 2 and handed.counts()["sending"] == 748


def test_S5_a_worker_retrying_after_a_carrier_outage_resumes_its_own_claim_at_once(
    w: World,
) -> None:
    """The carrier was down when the worker had claimed a batch: the worker's next attempt
    is its own claim again, handed over at once, not another worker's claim to wait out
    until its lease (60 s) runs out."""
    account = w.account(units=1000)
    template = w.template(account)
    w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS), None, "site", "a"))
    w.carrier.down = True
    failed, back = threading.Event(), threading.Event()

    def worker_thread() -> None:  # one thread: the background loop's attempt, then its retry
        with pytest.raises(RuntimeError):
            w.hand_over_all()
        failed.set()
        back.wait(timeout=30)
        w.hand_over_all()

    worker = threading.Thread(target=worker_thread, daemon=True)
    worker.start()
    assert failed.wait(timeout=30)
    w.carrier.down = False
    back.set()
    worker.join(timeout=30)
    stuck = worker.is_alive()
    w.clock.advance(120)  # lets a stuck retry finish (the lease runs out)
    worker.join(timeout=30)
    assert not stuck, "the retry waited for its own claim's lease"
    assert sorted(m.phone for m in w.carrier.given) == NUMBERS


# -- business messages handed over together (issue 17) -----------------------------------------


def codes(w: World, phones: list[str]) -> tuple[object, list[str]]:
    account = w.account(units=1000)
    template = w.template(account, type="business", kind=None, scenario="register", content=None)
    sent = [
        w.bus.handle(SendMessage(account, template, phone, {"code": "123456"}, "site", "a"))
        for phone in phones
    ]
    return account, [str(s.send.id) for s in sent]


def test_S5_business_messages_in_a_row_go_to_the_carrier_in_one_call_each_once(w: World) -> None:
    _, sends = codes(w, NUMBERS)
    assert w.hand_over_all() == len(NUMBERS)
    assert w.carrier.calls == [len(NUMBERS)]  # one call for the ten sends
    assert sorted(m.phone for m in w.carrier.given) == NUMBERS
    for send_id in sends:
        assert w.quota.send(uuid.UUID(send_id)).counts()["sending"] == 1
    assert w.hand_over_all() == len(NUMBERS)  # followed again: nothing handed over twice


def test_S5_Q7_a_refused_business_message_among_others_is_refunded_alone(w: World) -> None:
    w.carrier.refuse = {NUMBERS[3]}
    w.limits.over = {NUMBERS[5]}
    account, sends = codes(w, NUMBERS)
    w.hand_over_all()
    counts = [w.quota.send(uuid.UUID(s)).counts() for s in sends]
    assert [c["failed"] for c in counts] == [0, 0, 0, 1, 0, 1, 0, 0, 0, 0]
    assert w.quota.balance(account).refunded_total == 2  # one refund each, no more
    assert NUMBERS[5] not in [m.phone for m in w.carrier.given]  # over its limit: not given


def test_S5_business_messages_retried_after_a_carrier_outage_go_out_once(w: World) -> None:
    codes(w, NUMBERS[:4])
    w.carrier.down = True
    with pytest.raises(RuntimeError):
        w.hand_over_all()
    w.carrier.down = False
    assert w.hand_over_all() == 4  # the worker's own claims, resumed at once
    assert sorted(m.phone for m in w.carrier.given) == NUMBERS[:4]


def test_S10_Q7_receipts_for_many_sends_settle_together_and_refund_each_failure_once(
    w: World,
) -> None:
    """Deliveries of many sends are saved together (``record_receipts_together``); a failure
    is settled on its own with its refund; a send not ours, or named twice, is ignored."""
    account, sends = codes(w, NUMBERS)
    w.hand_over_all()
    ids = [message_id(uuid.UUID(s), 0) for s in sends]
    lines: list[ReceiptLine] = [ReportedReceipt(m, "delivered") for m in ids[:8]]
    lines += [
        ReportedReceipt(ids[8], "failed"),
        ReportedReceipt(ids[9], "delivered"),
        ReportedReceipt(ids[9], "delivered"),  # the carrier repeats itself
        ReportedReceipt(message_id(uuid4(), 0), "delivered"),  # no send of ours
    ]
    outcome = w.bus.handle(RecordReceipts(lines))
    assert [a.outcome for a in outcome.answers] == ["recorded"] * 10 + ["ignored"] * 2
    assert outcome.refunded_units == 1 and outcome.duplicates == 1
    counts = [w.quota.send(uuid.UUID(s)).counts() for s in sends]
    assert [c["success"] for c in counts] == [1] * 8 + [0, 1]
    assert counts[8]["failed"] == 1
    assert w.quota.balance(account).refunded_total == 1
    again = w.bus.handle(RecordReceipts(lines))
    assert [a.outcome for a in again.answers] == ["ignored"] * 12
    assert again.refunded_units == 0 and w.quota.balance(account).refunded_total == 1

"""Sending to the last receipt, on the simulated carrier and clock (S5, S10, Q5, Q7, Q8)."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from smsplat.adapters.clock import SimulatedClock
from smsplat.commands.command_types import SendMassSend, SendMessage
from smsplat.commands.recipient_sources import Numbers
from smsplat.infra.bootstrap import Container
from smsplat.projections.ledger_audit import audit_ledger

from tests.integration.history import funded_account


def approved_template(c: Container, account: UUID, fields: Mapping[str, object]) -> UUID:
    template = c.templates.submit(account, dict(fields), "account")
    c.templates.approve(template.id, "operator")
    return template.id


MASS = {
    "type": "mass",
    "kind": "notice",
    "signature": "花店",
    "content": "会员日到店有礼，欢迎光临。",
}


def test_S5_S10_Q7_Q8_a_mass_send_to_the_last_receipt(container: Container) -> None:
    c = container
    clock = c.clock
    assert isinstance(clock, SimulatedClock)
    account = funded_account(c, size=1000)
    template = approved_template(c, account, MASS)
    numbers = [f"1381234{n:04d}" for n in range(5, 255)]  # 250 ordinary numbers
    numbers += ["13800000001", "13800000002", "13800000003"]  # fail, silent, refused
    command = SendMassSend(account, template, Numbers(numbers), None, "site", "account")
    accepted = c.bus.handle(command)
    send_id = accepted.send.id
    assert accepted.plan.accepted == 253 and accepted.plan.units == 253  # Q5: charged at once
    assert c.quota.balance(account).available == 1000 - 253

    c.due_work.run()  # the worker hands over 3 batches (S5); 0003 is refused at once
    send = c.quota.send(send_id)
    assert send.next_batch is None and send.counts()["failed"] == 1
    assert (c.carrier.sent, c.carrier.handovers) == (252, 253)  # 0003 refused, once each
    assert c.quota.balance(account).refunded_total == 1  # Q7

    clock.advance(10)
    c.due_work.run()  # receipts: 250 delivered, 0001 failed
    counts = c.quota.send(send_id).counts()
    assert (counts["success"], counts["failed"], counts["sending"]) == (250, 2, 1)
    assert c.quota.balance(account).refunded_total == 2

    clock.advance(72 * 3600)
    c.due_work.run()  # Q8: 0002 unknown after 72 h, still charged
    send = c.quota.send(send_id)
    assert send.counts()["unknown"] == 1 and send.status == "completed"
    balance = c.quota.balance(account)
    assert (balance.charged_total, balance.refunded_total, balance.available) == (253, 2, 749)

    row = c.send_views.send(str(send_id))
    assert row is not None and row.status == "completed"
    assert row.counts == {"pending": 0, "sending": 0, "success": 250, "failed": 2, "unknown": 1}
    assert (row.units_charged, row.units_refunded) == (253, 2)
    report = audit_ledger(c.quota, c.ledger)
    assert report.ok, report.problems


def test_S10_a_business_message_is_delivered(container: Container) -> None:
    c = container
    clock = c.clock
    assert isinstance(clock, SimulatedClock)
    account = funded_account(c)
    template = approved_template(
        c, account, {"type": "business", "scenario": "register", "signature": "花店"}
    )
    accepted = c.bus.handle(
        SendMessage(account, template, "+86 138 1234 5678", {"code": "123456"}, "site", "account")
    )
    assert accepted.send.text == "【花店】您的注册验证码为123456,5分钟内有效,请勿泄露给他人。"
    c.due_work.run()  # handed over now
    clock.advance(5)  # the simulated carrier delivers 3 seconds after submission
    c.due_work.run()
    message = c.send_views.message(f"{accepted.send.id}.0")
    assert message is not None and message.status == "success"
    assert message.carrier_message_id and message.phone == "13812345678"


def test_Q10_a_pool_changed_behind_the_group_committer_is_read_again(container: Container) -> None:
    """Q10: the group committer starts each batch from the pool as it last saved it; when
    another writer changed that pool since (here a purchase straight to it), the
    save fails on the pool's version and the batch is decided again on the pool read fresh:
    every code is charged once, and the units add up."""
    c = container
    account = funded_account(c, size=1000)
    code = approved_template(
        c, account, {"type": "business", "scenario": "register", "signature": "花店"}
    )

    def send(phone: str) -> None:
        c.bus.handle(SendMessage(account, code, phone, {"code": "1"}, None, "a"))

    send("13912340001")
    c.quota.purchase(account, 1000, "p2", "operator")  # not through the committer
    send("13912340002")
    send("13912340003")
    balance = c.quota.balance(account)
    assert (balance.purchased_total, balance.charged_total) == (2000, 3)
    assert balance.available == 2000 - 3
    c.read_models.catch_up()
    assert audit_ledger(c.quota, c.ledger).ok

"""S9 through the send worker, on both stores: over-limit messages fail and are refunded."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from smsplat.adapters.clock import SimulatedClock
from smsplat.adapters.recipient_window import RecipientWindow
from smsplat.commands.command_types import PlanMassSend, SendMassSend, SendMessage
from smsplat.commands.recipient_sources import Numbers
from smsplat.domain.sending import message_id
from smsplat.infra.bootstrap import Container

from tests.integration.history import funded_account

PHONE = "13812345678"


def _template(c: Container, account: UUID, fields: dict[str, object]) -> UUID:
    template = c.templates.submit(account, fields, "account")
    c.templates.approve(template.id, "operator")
    return template.id


def _code(c: Container, account: UUID, template: UUID) -> tuple[str, str | None]:
    accepted = c.bus.handle(SendMessage(account, template, PHONE, {"code": "1"}, "site", "a"))
    c.due_work.run()
    row = c.send_views.message(message_id(accepted.send.id, 0))
    assert row is not None
    return row.status, row.reason


def test_S9_verification_codes_ten_an_hour_fifteen_a_day(any_container: Container) -> None:
    """S9: the 11th code within an hour fails (recipient_rate_limited) and is refunded (Q7);
    an hour later codes go again, until 15 in 24 hours."""
    c = any_container
    clock = c.clock
    assert isinstance(clock, SimulatedClock)
    account = funded_account(c)
    register = _template(c, account, {"type": "business", "scenario": "register",
                                      "signature": "花店"})  # fmt: skip
    for _ in range(10):
        assert _code(c, account, register)[0] == "sending"
        clock.advance(60)
    assert _code(c, account, register) == ("failed", "recipient_rate_limited")
    balance = c.quota.balance(account)
    assert (balance.charged_total, balance.refunded_total) == (11, 1)
    clock.advance(timedelta(hours=1).total_seconds())
    for _ in range(5):  # 15 in 24 hours
        assert _code(c, account, register)[0] in ("sending", "success")
    assert _code(c, account, register) == ("failed", "recipient_rate_limited")
    form = _template(c, account, {"type": "business", "scenario": "form", "signature": "花店"})
    accepted = c.bus.handle(SendMessage(account, form, PHONE, {"name": "x"}, "site", "a"))
    c.due_work.run()
    row = c.send_views.message(message_id(accepted.send.id, 0))
    assert row is not None and row.status != "failed"  # a form notice is not limited


def test_S9_marketing_three_a_day_per_number(any_container: Container) -> None:
    """S9: a 4th marketing message to a number within 24 hours fails and is refunded; the other
    numbers of the same send go out; a notice is not limited."""
    c = any_container
    account = funded_account(c)
    marketing = _template(c, account, {"type": "mass", "kind": "marketing", "signature": "花店",
                                       "content": "会员日全场八折。"})  # fmt: skip
    others = ["13912340005", "13912340006"]
    for _ in range(3):
        c.bus.handle(SendMassSend(account, marketing, Numbers([PHONE]), None, "site", "a"))
    _after_provider_review(c)
    to_all = Numbers([PHONE, *others])
    plan = c.bus.handle(PlanMassSend(SendMassSend(account, marketing, to_all, None, None, "a")))
    assert plan.rate_limited == (PHONE,)  # the dry run says so before anything is stored
    fourth = c.bus.handle(SendMassSend(account, marketing, to_all, None, "site", "a"))
    _after_provider_review(c)
    send = c.quota.send(fourth.send.id)
    assert send.message_status(0).value == "failed" and send.units_refunded == 1
    assert send.counts()["failed"] == 1
    notice = _template(c, account, {"type": "mass", "kind": "notice", "signature": "花店",
                                    "content": "本周六照常营业。"})  # fmt: skip
    sent = c.bus.handle(SendMassSend(account, notice, Numbers([PHONE]), None, "site", "a"))
    c.due_work.run()
    assert c.quota.send(sent.send.id).counts()["failed"] == 0


def _after_provider_review(c: Container) -> None:
    """Marketing waits 30 minutes for the provider's review (S8), then goes out."""
    assert isinstance(c.clock, SimulatedClock)
    c.clock.advance(30 * 60)
    c.due_work.run()


def test_S9_a_retried_batch_gets_the_same_decisions(any_container: Container) -> None:
    """A worker retrying after a crash: decisions are kept per message id, so the messages it
    already let through do not count against themselves."""
    window = any_container.limits
    now = any_container.clock.now()
    batch = [(f"m{i}", PHONE) for i in range(3)]
    first = window.admit("marketing", batch, now)
    again = window.admit("marketing", batch, now + timedelta(seconds=1))
    assert first == again == {"m0", "m1", "m2"}
    assert window.admit("marketing", [("m3", PHONE)], now) == set()


def test_S9_one_hand_over_of_many_codes_to_one_number_lets_ten_through(
    any_container: Container,
) -> None:
    """S9: the limits are counted once for a whole hand-over; its own messages to one number
    count against each other, in order, and a retry of it gets the same decisions."""
    window = RecipientWindow(any_container.db)
    now = any_container.clock.now()
    other = "13900000000"
    messages = [(f"m{n}", PHONE) for n in range(12)] + [(f"o{n}", other) for n in range(3)]
    allowed = window.admit("verification", messages, now)
    assert allowed == {f"m{n}" for n in range(10)} | {"o0", "o1", "o2"}
    assert window.admit("verification", messages, now) == allowed  # the same answers
    later = [("m12", PHONE), ("o3", other)]
    assert window.admit("verification", later, now + timedelta(minutes=1)) == {"o3"}
    assert window.would_fail("verification", [PHONE, other], now) == [PHONE]

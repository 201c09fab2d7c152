"""The per-message audit on events made by the domain itself, no store (Q5, Q7, Q8, Q12).

Each case builds a send and its pool with the domain, plants one defect by triggering an event
by hand, and checks that ``SendAudit`` names the message (or the send) it is about.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from smsplat.commands.quota import charge_reference
from smsplat.commands.send_lifecycle import message_reference, refund_messages
from smsplat.domain.carrier_input import CarrierReceipt
from smsplat.domain.handover import Handover
from smsplat.domain.ledger import Reference
from smsplat.domain.quota import QuotaPool, entry_from_event
from smsplat.domain.send_draft import SendDraft
from smsplat.domain.sending import Send, message_id
from smsplat.projections.send_audit import SendAudit

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
FAR = T0 + timedelta(days=1)


class Books:
    """A pool and one 5-message send, handed over, with every event kept."""

    def __init__(self) -> None:
        account = uuid4()
        self.pool = QuotaPool.open(account, "13800138000", T0)
        self.pool.purchase("p1", 1000, 1000, "operator", T0)
        phones = [f"1391234{n:04d}" for n in range(1000, 1005)]
        draft = SendDraft(uuid4(), account, uuid4(), "mass", "notice", "site", "【花店】好",
                          tuple(phones), (1,) * len(phones))  # fmt: skip
        self.send = Send.accept(draft, "account", T0)
        self.pool.charge(charge_reference(self.send), 5, "site", "account", T0)
        self.send.claim_next_batch("c", "w", T0, FAR, T0)
        self.send.record_batch(0, [Handover(i, f"c{i}") for i in range(5)], T0)
        self.events: list[Any] = []

    def collect(self) -> None:
        self.events += [*self.pool.collect_events(), *self.send.collect_events()]

    def problems(self) -> list[str]:
        self.collect()
        audit = SendAudit()
        for event in self.events:
            if isinstance(event, QuotaPool.EntryRecorded):
                audit.on_entry(entry_from_event(event, "acc"), f"#{event.originator_version}")
            audit.on_event(event)
        return audit.problems()

    def fail(self, *indices: int, refund: bool = True) -> None:
        settled = self.send.record_receipts([CarrierReceipt(i, "failed") for i in indices], T0)
        if refund:
            refund_messages(self.pool, self.send, settled.refunds, T0)


def test_Q7_a_clean_life_has_no_problem() -> None:
    books = Books()
    books.fail(1)
    books.send.record_receipts([CarrierReceipt(0, "delivered")], T0)
    books.send.expire(T0 + timedelta(hours=72))
    assert books.problems() == []


def test_Q7_a_lost_refund_names_its_message() -> None:
    books = Books()
    books.fail(3, refund=False)
    (problem,) = books.problems()
    assert message_id(books.send.id, 3) in problem and "never refunded" in problem


def test_Q7_a_refund_of_a_delivered_message_and_a_second_refund_are_named() -> None:
    books = Books()
    books.send.record_receipts([CarrierReceipt(0, "delivered")], T0)
    books.fail(2)
    for index in (0, 2):
        books.pool.refund(message_reference(books.send, index), charge_reference(books.send),
                          1, "site", "system", T0)  # fmt: skip
    problems = books.problems()
    assert any(message_id(books.send.id, 0) in p and "success" in p for p in problems)
    assert any(message_id(books.send.id, 2) in p and "2 times" in p for p in problems)


def test_Q5_a_charge_that_does_not_match_the_messages_is_named() -> None:
    books = Books()
    books.pool.charge(Reference("send", str(books.send.id)), 1, "site", "system", T0)
    (problem,) = books.problems()
    assert str(books.send.id) in problem and "charged 6" in problem


def test_Q12_an_entry_no_send_explains_is_named() -> None:
    books = Books()
    books.pool.charge(Reference("message", "made-up.0"), 1, "site", "system", T0)
    (problem,) = books.problems()
    assert "made-up.0" in problem and "names no send" in problem


def test_S10_a_message_settled_twice_is_named() -> None:
    books = Books()
    books.fail(4)
    books.send.trigger_event(Send.ReceiptsRecorded, delivered=[4], failed=[], timestamp=T0)
    problems = books.problems()
    assert any(message_id(books.send.id, 4) in p and "settled twice" in p for p in problems)

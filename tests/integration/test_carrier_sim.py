"""The simulated carrier: the contract's last-four-digit rules; it deduplicates nothing."""

from __future__ import annotations

from datetime import timedelta

from smsplat.adapters.carrier_sim import SimulatedCarrier
from smsplat.commands.ports import OutgoingMessage
from smsplat.infra.bootstrap import Container

from tests.conftest import START


def msg(n: int, phone: str) -> OutgoingMessage:
    return OutgoingMessage(f"m{n}", phone, "【花店】您好")


def test_S10_last_four_digits_decide_the_outcome(any_container: Container) -> None:
    """S10: 0001 fails later, 0002 never answers, 0003 is refused at once, others deliver."""
    carrier = any_container.carrier
    answers = carrier.submit(
        [
            msg(1, "13800000001"),
            msg(2, "13800000002"),
            msg(3, "13800000003"),
            msg(4, "13812345678"),
        ],
        START,
    )
    assert [a.accepted for a in answers] == [True, True, False, True]
    assert answers[2].error == "carrier_refused" and answers[2].carrier_message_id is None
    assert carrier.due_receipts(START) == []
    receipts = carrier.due_receipts(START + timedelta(hours=80))
    assert {(r.message_id, r.status) for r in receipts} == {("m1", "failed"), ("m4", "delivered")}
    assert carrier.due_receipts(START + timedelta(hours=200)) == []  # each receipt once


def test_delivery_comes_a_few_simulated_seconds_after_submission(any_container: Container) -> None:
    carrier = any_container.carrier
    carrier.submit([msg(1, "13812345678")], START)
    assert carrier.due_receipts(START + timedelta(seconds=2)) == []
    (receipt,) = carrier.due_receipts(START + timedelta(seconds=3))
    assert receipt.status == "delivered" and receipt.at == START + timedelta(seconds=3)


def test_S5_a_batch_handed_over_again_is_sent_again(any_container: Container) -> None:
    """S5: like a real carrier, the simulated one deduplicates nothing: a batch handed over
    twice is 200 messages to people, each with its own carrier id and its own receipt, and a
    second carrier object on the same database (another process) counts them the same. So
    only our own claims keep a hand-over to once (see test_handover_once)."""
    carrier = any_container.carrier
    batch = [msg(n, f"1381234{5000 + n:04d}") for n in range(100)]  # no magic endings
    first = carrier.submit(batch, START)
    again = SimulatedCarrier(any_container.db).submit(batch, START + timedelta(seconds=1))
    assert {a.carrier_message_id for a in first}.isdisjoint(a.carrier_message_id for a in again)
    assert (carrier.sent, carrier.handovers) == (100, 200)
    assert set(carrier.handovers_by_message().values()) == {2}
    assert len(carrier.due_receipts(START + timedelta(minutes=1))) == 200
    assert carrier.text_of("m7") == ("13812345007", "【花店】您好")


def test_the_next_receipt_due_is_known_for_the_clock_to_step_to(any_container: Container) -> None:
    carrier = any_container.carrier
    assert carrier.next_due_after(START) is None
    carrier.submit([msg(1, "13812345678"), msg(2, "13800000001")], START)
    assert carrier.next_due_after(START) == START + timedelta(seconds=3)
    assert carrier.next_due_after(START + timedelta(seconds=3)) == START + timedelta(seconds=5)
    assert carrier.next_due_after(START + timedelta(seconds=5)) is None

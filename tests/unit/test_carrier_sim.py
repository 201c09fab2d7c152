"""The simulated carrier: the contract's last-four-digit rules, and exactly-once hand-over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smsplat.adapters.carrier_sim import SimulatedCarrier
from smsplat.commands.ports import OutgoingMessage

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def msg(n: int, phone: str) -> OutgoingMessage:
    return OutgoingMessage(f"m{n}", phone, "【花店】您好")


def test_S10_last_four_digits_decide_the_outcome() -> None:
    """S10: 0001 fails later, 0002 never answers, 0003 is refused at once, others deliver."""
    carrier = SimulatedCarrier()
    answers = carrier.submit(
        [
            msg(1, "13800000001"),
            msg(2, "13800000002"),
            msg(3, "13800000003"),
            msg(4, "13812345678"),
        ],
        T0,
    )
    assert [a.accepted for a in answers] == [True, True, False, True]
    assert answers[2].error == "carrier_refused" and answers[2].carrier_message_id is None
    assert carrier.due_receipts(T0) == []
    receipts = carrier.due_receipts(T0 + timedelta(hours=80))
    assert {(r.message_id, r.status) for r in receipts} == {("m1", "failed"), ("m4", "delivered")}
    assert carrier.due_receipts(T0 + timedelta(hours=200)) == []  # each receipt once


def test_delivery_comes_a_few_simulated_seconds_after_submission() -> None:
    carrier = SimulatedCarrier()
    carrier.submit([msg(1, "13812345678")], T0)
    assert carrier.due_receipts(T0 + timedelta(seconds=2)) == []
    (receipt,) = carrier.due_receipts(T0 + timedelta(seconds=3))
    assert receipt.status == "delivered" and receipt.at == T0 + timedelta(seconds=3)


def test_S5_a_retried_batch_is_not_sent_twice() -> None:
    """S5: handing the same message again returns the first answer; the carrier sends it once."""
    carrier = SimulatedCarrier()
    batch = [msg(n, f"1381234{5000 + n:04d}") for n in range(100)]  # no magic endings
    first = carrier.submit(batch, T0)
    again = carrier.submit(batch, T0 + timedelta(seconds=1))
    assert again == first
    assert carrier.sent == 100
    assert set(carrier.handovers.values()) == {2}
    assert len(carrier.due_receipts(T0 + timedelta(minutes=1))) == 100

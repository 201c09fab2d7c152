"""The ``Send`` aggregate on its own (no I/O): acceptance, S5 batches, S10 receipts, Q5, Q7, Q8.

Each test drives ``Send`` directly and reads what it recorded with ``collect_events()``; replaying
those events must rebuild the same send.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from copy import deepcopy
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smsplat.domain.carrier_input import CarrierReceipt, IgnoredBecause
from smsplat.domain.errors import InvalidInput, QuotaConflict
from smsplat.domain.handover import Handover
from smsplat.domain.send_draft import SendDraft
from smsplat.domain.sending import (
    BATCH_SIZE,
    MessageStatus,
    Send,
    SendStatus,
    message_id,
    parse_message_id,
)

BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
H72 = timedelta(hours=72)
SEND_ID = UUID("6f1c2a4e-0b7d-4c1e-9a57-3f2d8e1b9c10")
ALL_STATUSES = ("pending", "sending", "success", "failed", "unknown")


def phones(n: int) -> list[str]:
    return [f"138{i:08d}" for i in range(n)]


def new_send(n: int = 1, units: int = 1, send_id: UUID | None = None, at: datetime = T0) -> Send:
    draft = SendDraft(
        send_id or uuid4(), uuid4(), uuid4(), "mass", "notice", "site",
        "【浮云】明天上午九点开会。", tuple(phones(n)), (units,) * n,
    )  # fmt: skip
    return Send.accept(draft, "account", at)


def answers(send: Send, batch: int, refused: Collection[int] = ()) -> list[Handover]:
    """The carrier's answer for every message of ``batch``; ``refused`` are refused at once."""
    return [
        Handover(i, None, "carrier_refused") if i in refused else Handover(i, f"c-{i}")
        for i in send.batch_indices(batch)
    ]


LEASE = T0 + timedelta(days=365)  # claims in these tests never run out


def claim(send: Send, at: datetime = T0, claim_id: str = "claim") -> int | None:
    """Claim the next batch (S5: the intent before the hand-over); returns it."""
    return send.claim_next_batch(claim_id, "worker-1", at, LEASE, T0).batch


def record(send: Send, batch: int, handovers: Sequence[Handover], at: datetime = T0) -> int:
    """Claim ``batch`` (unless claimed) and record the carrier's answers; returns the units
    refunded at once."""
    if send.claim is None or send.claim.batch != batch:
        assert claim(send, at) == batch
    return sum(send.units_of(i) for i in send.record_batch(batch, handovers, at))


def submit_all(send: Send, at: datetime = T0, refused: Collection[int] = ()) -> int:
    """Record every remaining batch at ``at``; returns the units they gave back."""
    refund = 0
    while send.next_batch is not None:
        batch = send.next_batch
        refund += record(send, batch, answers(send, batch, refused), at)
    return refund


class Settled(NamedTuple):
    """What a call of ``record_receipts`` did, in short."""

    delivered: int
    failed: int
    ignored: int
    refund_units: int


def settle(send: Send, receipts: Iterable[tuple[int, str]], at: datetime = T0) -> Settled:
    settled = send.record_receipts([CarrierReceipt(i, status) for i, status in receipts], at)
    results = settled.results
    return Settled(
        sum(1 for r in results if r.recorded and r.status == "success"),
        sum(1 for r in results if r.recorded and r.status == "failed"),
        sum(1 for r in results if not r.recorded),
        settled.refunded_units,
    )


def counts(**given: int) -> dict[str, int]:
    return {status: given.get(status, 0) for status in ALL_STATUSES}


def statuses(send: Send, indices: Iterable[int]) -> list[MessageStatus]:
    return [send.message_status(i) for i in indices]


def state(send: Send) -> SendStatus:
    """The send's status, read afresh (mypy would keep an earlier narrowing of the property)."""
    return send.status


def replay(events: Sequence[Any]) -> Send:
    agg: Any = None
    for event in events:
        agg = event.mutate(agg)
    assert isinstance(agg, Send)
    return agg


def snapshot(send: Send) -> tuple[Any, ...]:
    return (
        send.statuses,
        send.units_refunded,
        send.status,
        send.counts(),
        send.batch_times,
        send.next_batch,
        send.next_expiry(),
        send.version,
    )


# -- acceptance (Q5: the whole send is charged at acceptance) -----------------------------------


@pytest.mark.parametrize("n", [1, 10_000])
@pytest.mark.parametrize("units", [1, 2])
def test_Q5_accept_charges_every_recipient_and_starts_all_pending(n: int, units: int) -> None:
    send_id, account_id, template_id = uuid4(), uuid4(), uuid4()
    recipients = phones(n)
    draft = SendDraft(
        send_id, account_id, template_id, "mass", "marketing", "mall",
        "【浮云】新品上市。", tuple(recipients), (units,) * n,
    )  # fmt: skip
    send = Send.accept(draft, "account", T0)
    recipients.append("13900000000")  # the send keeps its own copy
    assert send.id == send_id
    assert (send.account_id, send.template_id) == (str(account_id), str(template_id))
    assert (send.type, send.kind, send.product) == ("mass", "marketing", "mall")
    assert send.text == "【浮云】新品上市。"
    assert send.total == n
    assert send.recipients == phones(n)
    assert state(send) is SendStatus.SUBMITTING
    assert send.counts() == counts(pending=n)
    assert send.units_charged == n * units
    assert send.units_refunded == 0
    assert send.next_batch == 0
    assert send.next_expiry() is None
    (accepted,) = send.collect_events()
    assert isinstance(accepted, Send.Accepted)
    assert accepted.timestamp == T0


def test_accept_refuses_a_send_without_recipients() -> None:
    with pytest.raises(InvalidInput) as refused:
        Send.accept(SendDraft(uuid4(), uuid4(), uuid4(), "mass", None, None, "t", (), ()), "a", T0)
    assert refused.value.code == "validation_error"


@pytest.mark.parametrize("units", [0, 3, -1, 10])
def test_Q6_accept_refuses_units_per_message_other_than_1_or_2(units: int) -> None:
    with pytest.raises(InvalidInput):
        draft = SendDraft(uuid4(), uuid4(), uuid4(), "mass", None, None, "t", ("1",), (units,))
        Send.accept(draft, "a", T0)


@pytest.mark.parametrize("index", [0, 1, 99, 100, 9_999])
def test_message_id_round_trips_through_parse(index: int) -> None:
    text = message_id(SEND_ID, index)
    assert text == f"{SEND_ID}.{index}"
    assert parse_message_id(text) == (SEND_ID, index)


def test_message_ids_are_distinct_per_send_and_index() -> None:
    other = uuid4()
    ids = {message_id(s, i) for s in (SEND_ID, other) for i in range(300)}
    assert len(ids) == 600


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        ".",
        "not-a-uuid.3",
        "12345.7",
        str(SEND_ID),
        f"{SEND_ID}.",
        f"{SEND_ID}.x",
        f"{SEND_ID}.1.5",
        f"{SEND_ID}.3x",
        f"x{SEND_ID}.3",
    ],
)
def test_parse_message_id_turns_garbage_into_none(text: str) -> None:
    assert parse_message_id(text) is None


@pytest.mark.parametrize("index", ["-1", "+1", "1_0", " 7 "])
def test_parse_message_id_refuses_indices_message_id_never_makes(index: str) -> None:
    """Only what ``message_id`` produces parses: a negative index would read the message at the
    far end of the send (``statuses[-1]``), and aliases like ``1_0`` name message 10 twice."""
    assert parse_message_id(f"{SEND_ID}.{index}") is None


# -- S5: batches of 100 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "batches", "last"),
    [(1, 1, 1), (99, 1, 99), (100, 1, 100), (101, 2, 1), (250, 3, 50), (10_000, 100, 100)],
)
def test_S5_recipients_are_cut_into_batches_of_100(n: int, batches: int, last: int) -> None:
    send = new_send(n)
    assert send.batch_count == batches
    cut = [send.batch_indices(b) for b in range(batches)]
    assert [len(r) for r in cut[:-1]] == [100] * (batches - 1)
    assert len(cut[-1]) == last
    assert [i for r in cut for i in r] == list(range(n))


def test_S5_250_recipients_make_three_batches_the_last_of_50() -> None:
    send = new_send(250)
    assert send.batch_count == 3
    assert send.batch_indices(0) == range(0, 100)
    assert send.batch_indices(1) == range(100, 200)
    assert send.batch_indices(2) == range(200, 250)


def test_S5_10000_recipients_go_out_in_100_recorded_batches() -> None:
    send = new_send(10_000, units=2)
    send.collect_events()
    assert submit_all(send) == 0
    events = send.collect_events()
    assert [e.batch for e in events if isinstance(e, Send.BatchSubmitted)] == list(range(100))
    assert all(len(e.sent) == 100 for e in events if isinstance(e, Send.BatchSubmitted))
    assert state(send) is SendStatus.SUBMITTED
    assert send.counts() == counts(sending=10_000)


def test_S5_next_batch_advances_only_by_recording_batches_in_order() -> None:
    send = new_send(250)
    assert send.next_batch == send.next_batch == 0  # reading it changes nothing
    for batch in range(3):
        assert state(send) is SendStatus.SUBMITTING
        assert send.next_batch == batch
        assert record(send, batch, answers(send, batch), T0 + timedelta(minutes=batch)) == 0
        done, later = send.batch_indices(batch), range((batch + 1) * 100, 250)
        assert statuses(send, done) == [MessageStatus.SENDING] * len(done)
        assert statuses(send, later) == [MessageStatus.PENDING] * len(later)
    assert send.next_batch is None
    assert state(send) is SendStatus.SUBMITTED
    assert send.counts() == counts(sending=250)
    assert send.batch_times == [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]


@pytest.mark.parametrize("batch", [1, 2, -1, 3])
def test_S5_a_batch_out_of_order_is_a_conflict_and_records_nothing(batch: int) -> None:
    send = new_send(250)
    send.collect_events()
    indices = range(max(batch, 0) * 100, min(max(batch, 0) * 100 + 100, 250))
    handovers = [Handover(i, f"c-{i}") for i in indices]
    assert claim(send) == 0
    send.collect_events()
    with pytest.raises(QuotaConflict):
        send.record_batch(batch, handovers, T0)
    assert send.collect_events() == []
    assert send.next_batch == 0
    assert send.counts() == counts(pending=250)


def test_S5_a_batch_recorded_twice_is_a_conflict() -> None:
    send = new_send(150)
    record(send, 0, answers(send, 0), T0)
    send.collect_events()
    with pytest.raises(QuotaConflict):
        send.record_batch(0, answers(send, 0), T0)
    record(send, 1, answers(send, 1), T0)
    send.collect_events()
    for batch in (0, 1):
        with pytest.raises(QuotaConflict):
            send.record_batch(batch, answers(send, batch, refused={batch * 100}), T0)
    assert send.collect_events() == []
    assert send.units_refunded == 0
    assert send.counts() == counts(sending=150)


def _missing(h: list[Handover]) -> list[Handover]:
    return h[:-1]


def _extra(h: list[Handover]) -> list[Handover]:
    return [*h, Handover(100, "c-100")]


def _duplicate_instead(h: list[Handover]) -> list[Handover]:
    return [*h[:-1], Handover(h[0].index, "c-again")]


def _duplicate_added(h: list[Handover]) -> list[Handover]:
    return [*h, Handover(h[5].index, None, "carrier_refused")]


def _other_batch(h: list[Handover]) -> list[Handover]:
    return [Handover(x.index + 100, x.carrier_message_id, x.failure) for x in h]


def _empty(h: list[Handover]) -> list[Handover]:
    return []


def test_S5_a_batch_is_recorded_only_once_claimed() -> None:
    """The intent comes before the hand-over: an unclaimed batch cannot be recorded."""
    send = new_send(150)
    send.collect_events()
    with pytest.raises(QuotaConflict):
        send.record_batch(0, answers(send, 0), T0)
    assert send.collect_events() == []
    assert claim(send) == 0
    assert send.record_batch(0, answers(send, 0), T0) == ()
    assert send.claim is None and send.next_batch == 1


@pytest.mark.parametrize(
    "spoil", [_missing, _extra, _duplicate_instead, _duplicate_added, _other_batch, _empty]
)
def test_S5_a_batch_must_answer_for_exactly_its_own_indices(spoil: Any) -> None:
    send = new_send(200)
    assert claim(send) == 0
    send.collect_events()
    with pytest.raises(InvalidInput):
        send.record_batch(0, spoil(answers(send, 0)), T0)
    assert send.collect_events() == []
    assert send.next_batch == 0
    assert send.counts() == counts(pending=200)
    assert send.units_refunded == 0


def test_S5_Q7_messages_refused_at_submission_fail_at_once_and_are_refunded() -> None:
    send = new_send(250, units=2)
    send.collect_events()
    handovers = answers(send, 0, refused={3})
    handovers[7] = Handover(7, None, "blacklisted")
    handovers[9] = Handover(9, "")  # no carrier id is a refusal too
    assert record(send, 0, handovers, T0) == 3 * 2
    assert send.units_refunded == 6
    assert statuses(send, [3, 7, 9]) == [MessageStatus.FAILED] * 3
    assert send.message_status(0) is MessageStatus.SENDING
    assert send.counts() == counts(failed=3, sending=97, pending=150)
    claimed, event = send.collect_events()
    assert isinstance(claimed, Send.HandoverClaimed) and claimed.batch == 0
    assert isinstance(event, Send.BatchSubmitted)
    assert event.failed == [[3, "carrier_refused"], [7, "blacklisted"], [9, "carrier_refused"]]
    assert len(event.sent) == 97
    assert event.sent[0] == [0, "c-0"]
    assert record(send, 1, answers(send, 1, refused={100, 199}), T0) == 4
    assert send.units_refunded == 10
    assert record(send, 2, answers(send, 2), T0) == 0
    assert send.units_refunded == 10
    assert state(send) is SendStatus.SUBMITTED
    assert send.counts() == counts(failed=5, sending=245)


def test_S5_Q7_a_send_refused_whole_is_completed_and_refunded_whole() -> None:
    send = new_send(130, units=2)
    assert submit_all(send, refused=range(130)) == 260
    assert send.units_refunded == send.units_charged == 260
    assert state(send) is SendStatus.COMPLETED
    assert send.counts() == counts(failed=130)
    assert send.next_expiry() is None


def test_S5_the_status_is_submitted_only_after_the_last_batch() -> None:
    send = new_send(201)
    record(send, 0, answers(send, 0), T0)
    record(send, 1, answers(send, 1), T0)
    assert state(send) is SendStatus.SUBMITTING
    record(send, 2, answers(send, 2), T0)
    assert state(send) is SendStatus.SUBMITTED


# -- S10, Q7: receipts ----------------------------------------------------------------------------


def test_S10_Q7_delivered_is_success_and_failed_is_refunded() -> None:
    send = new_send(3, units=2)
    submit_all(send)
    send.collect_events()
    settled = settle(send, [(0, "delivered"), (1, "failed")], T0 + timedelta(seconds=5))
    assert settled == Settled(1, 1, 0, 2)
    assert statuses(send, range(3)) == [
        MessageStatus.SUCCESS,
        MessageStatus.FAILED,
        MessageStatus.SENDING,
    ]
    assert send.units_refunded == 2
    assert send.counts() == counts(success=1, failed=1, sending=1)
    (event,) = send.collect_events()
    assert isinstance(event, Send.ReceiptsRecorded)
    assert (event.delivered, event.failed) == ([0], [1])
    assert event.timestamp == T0 + timedelta(seconds=5)


def test_S10_Q7_duplicates_in_one_call_are_ignored_and_refund_nothing_more() -> None:
    send = new_send(4, units=2)
    submit_all(send)
    settled = settle(
        send, [(0, "delivered"), (1, "failed"), (0, "delivered"), (1, "failed"), (1, "failed")], T0
    )
    assert settled == Settled(1, 1, 3, 2)
    assert send.units_refunded == 2
    assert send.counts() == counts(success=1, failed=1, sending=2)


def test_S10_Q7_duplicates_in_a_later_call_are_ignored_and_record_nothing() -> None:
    send = new_send(4, units=2)
    submit_all(send)
    settle(send, [(0, "delivered"), (1, "failed")], T0)
    send.collect_events()
    before = snapshot(send)
    settled = settle(send, [(1, "failed"), (0, "delivered")], T0 + timedelta(hours=1))
    assert settled == Settled(0, 0, 2, 0)
    assert send.collect_events() == []
    assert snapshot(send) == before


def test_S10_two_receipts_for_one_message_in_one_call_settle_it_once() -> None:
    send = new_send(2, units=2)
    submit_all(send)
    settled = settle(send, [(0, "delivered"), (0, "failed")], T0)
    assert settled == Settled(1, 0, 1, 0)
    assert send.message_status(0) is MessageStatus.SUCCESS
    assert send.units_refunded == 0


@pytest.mark.parametrize("late", ["delivered", "failed"])
def test_Q7_a_receipt_for_a_message_refused_at_submission_changes_nothing(late: str) -> None:
    send = new_send(3, units=2)
    assert submit_all(send, refused={1}) == 2
    send.collect_events()
    settled = settle(send, [(1, late)], T0 + timedelta(minutes=1))
    assert settled == Settled(0, 0, 1, 0)
    assert send.message_status(1) is MessageStatus.FAILED
    assert send.units_refunded == 2
    assert send.collect_events() == []


def test_Q7_a_late_failed_after_delivered_changes_nothing() -> None:
    send = new_send(2, units=2)
    submit_all(send)
    settle(send, [(0, "delivered")], T0)
    settled = settle(send, [(0, "failed")], T0 + timedelta(minutes=5))
    assert settled == Settled(0, 0, 1, 0)
    assert send.message_status(0) is MessageStatus.SUCCESS
    assert send.units_refunded == 0


def test_Q7_a_message_is_refunded_at_most_once() -> None:
    send = new_send(2, units=2)
    submit_all(send)
    first = settle(send, [(0, "failed")], T0)
    again = settle(send, [(0, "failed"), (0, "delivered")], T0 + timedelta(minutes=5))
    assert (first.refund_units, again.refund_units) == (2, 0)
    assert again.ignored == 2
    assert send.message_status(0) is MessageStatus.FAILED
    assert send.units_refunded == 2


def reasons(send: Send, receipts: list[tuple[int, str]]) -> list[IgnoredBecause | None]:
    """Why each receipt was ignored (None: it settled its message)."""
    settled = send.record_receipts([CarrierReceipt(i, s) for i, s in receipts], T0)
    return [r.ignored for r in settled.results]


@pytest.mark.parametrize("bad", ["bounced", "success", "DELIVERED", ""])
def test_S10_a_receipt_with_another_status_is_malformed_and_the_others_count(bad: str) -> None:
    send = new_send(3)
    submit_all(send)
    got = reasons(send, [(0, "delivered"), (1, "failed"), (2, bad)])
    assert got == [None, None, IgnoredBecause.MALFORMED]
    assert statuses(send, range(3)) == [
        MessageStatus.SUCCESS, MessageStatus.FAILED, MessageStatus.SENDING]  # fmt: skip


@pytest.mark.parametrize("index", [-1, 3, 100])
def test_S10_a_receipt_for_a_message_the_send_lacks_is_unknown(index: int) -> None:
    send = new_send(3)
    submit_all(send)
    send.collect_events()
    assert reasons(send, [(index, "failed")]) == [IgnoredBecause.UNKNOWN_MESSAGE]
    assert send.collect_events() == []
    assert reasons(send, [(0, "delivered"), (index, "delivered")]) == [
        None, IgnoredBecause.UNKNOWN_MESSAGE]  # fmt: skip


def test_S10_Q5_a_receipt_for_a_message_never_handed_over_is_ignored() -> None:
    """Not claimed yet, waiting for its time, or cancelled: the carrier never had it, and
    its units were never charged (or only locked): nothing moves."""
    send = new_send(150)
    send.collect_events()
    before = snapshot(send)
    assert reasons(send, [(0, "failed"), (120, "delivered")]) == [
        IgnoredBecause.NOT_HANDED_OVER] * 2  # fmt: skip
    assert send.collect_events() == []
    assert snapshot(send) == before
    assert claim(send) == 0  # batch 0 is with the carrier now; batch 1 is not
    assert reasons(send, [(0, "failed"), (120, "delivered")]) == [
        None, IgnoredBecause.NOT_HANDED_OVER]  # fmt: skip

    draft = SendDraft(
        uuid4(), uuid4(), uuid4(), "mass", "notice", "site", "【浮云】明天开会。",
        tuple(phones(2)), (1, 1), scheduled_at=T0 + timedelta(days=1),
    )  # fmt: skip
    waiting = Send.accept(draft, "account", T0)
    assert reasons(waiting, [(0, "failed")]) == [IgnoredBecause.NOT_HANDED_OVER]
    waiting.cancel("cancelled_by_account", "account", T0)
    assert reasons(waiting, [(1, "delivered")]) == [IgnoredBecause.NOT_HANDED_OVER]
    assert waiting.counts() == counts()


def test_S10_receipts_for_final_messages_say_duplicate_or_already_final() -> None:
    send = new_send(3, units=2)
    submit_all(send, refused={2})
    settle(send, [(0, "delivered"), (1, "failed")])
    receipts = [(i, status) for i in range(3) for status in ("delivered", "failed")]
    same, other = IgnoredBecause.DUPLICATE, IgnoredBecause.ALREADY_FINAL
    # 0 delivered, 1 failed by receipt, 2 refused at submission (failed)
    assert reasons(send, receipts) == [same, other, other, same, other, same]


@pytest.mark.parametrize(
    ("receipt", "settled"),
    [("delivered", MessageStatus.SUCCESS), ("failed", MessageStatus.FAILED)],
)
def test_S10_a_receipt_before_its_batch_is_recorded_settles_the_message_for_good(
    receipt: str, settled: MessageStatus
) -> None:
    """The carrier can answer before the worker has recorded the batch it claimed."""
    send = new_send(150, units=2)
    record(send, 0, answers(send, 0), T0)
    assert claim(send) == 1
    early = settle(send, [(120, receipt)], T0)
    assert early.refund_units == (2 if receipt == "failed" else 0)
    assert send.message_status(120) is settled
    assert send.record_batch(1, answers(send, 1), T0) == ()
    assert send.message_status(120) is settled
    assert send.message_status(121) is MessageStatus.SENDING
    assert send.units_refunded == early.refund_units
    assert send.counts()["sending"] == 149
    settle(send, [(i, "delivered") for i in range(150) if i != 120], T0)
    assert state(send) is SendStatus.COMPLETED


@pytest.mark.parametrize(
    ("receipt", "settled"),
    [("delivered", MessageStatus.SUCCESS), ("failed", MessageStatus.FAILED)],
)
def test_Q7_a_message_settled_before_its_batch_is_not_failed_or_refunded_again(
    receipt: str, settled: MessageStatus
) -> None:
    """A batch taken over after a crash: the carrier already answered for message 5 (a
    receipt came in), and its answer to the second hand-over is a refusal. The message is
    final already: it keeps its status, and ``record_batch`` gives back nothing for it
    (refunded at most once)."""
    send = new_send(10, units=2)
    assert claim(send, claim_id="first") == 0
    early = settle(send, [(5, receipt)], T0)
    assert send.outgoing(0) == [i for i in range(10) if i != 5]  # not handed over again
    refund = send.record_batch(0, answers(send, 0, refused={5, 6}), T0 + timedelta(seconds=1))
    assert refund == (6,)  # message 6 only
    assert send.message_status(5) is settled
    assert send.units_refunded == early.refund_units + 2
    assert send.units_refunded == 2 * send.counts()["failed"]


def test_S5_a_claim_is_held_by_one_worker_until_its_lease_runs_out() -> None:
    send = new_send(150)
    lease = T0 + timedelta(minutes=1)
    first = send.claim_next_batch("a", "worker-a", T0, lease, T0)
    assert first.batch == 0 and not first.busy
    again = send.claim_next_batch("a", "worker-a", T0, lease, T0)  # a retried save: still ours
    assert again.batch == 0
    other = send.claim_next_batch("b", "worker-b", T0, lease, T0 + timedelta(seconds=59))
    assert (other.batch, other.busy_until) == (None, lease)
    taken = send.claim_next_batch("b", "worker-b", T0, lease + timedelta(minutes=1), lease)
    assert taken.batch == 0  # the lease ran out: taken over
    assert send.claim is not None and send.claim.claim_id == "b"
    send.record_batch(0, answers(send, 0), T0)
    assert send.claim is None
    assert send.claim_next_batch("a", "worker-a", T0, lease, T0).batch == 1
    record(send, 1, answers(send, 1), T0)
    assert send.claim_next_batch("c", "worker-c", T0, lease, T0) == send.claim_next_batch(
        "d", "worker-d", T0, lease, T0)  # fmt: skip
    assert send.next_batch is None


def test_S10_a_send_is_completed_when_every_message_is_final() -> None:
    send = new_send(103)
    submit_all(send, refused={0})
    settle(send, [(1, "delivered"), (2, "failed")], T0)
    assert state(send) is SendStatus.SUBMITTED
    settle(send, [(i, "delivered") for i in range(3, 102)], T0)
    assert state(send) is SendStatus.SUBMITTED
    settle(send, [(102, "failed")], T0)
    assert state(send) is SendStatus.COMPLETED
    assert send.counts() == counts(success=100, failed=3)
    assert send.next_expiry() is None


def test_S10_a_send_is_not_completed_before_its_batches_are_recorded() -> None:
    send = new_send(120)
    assert claim(send) == 0
    settle(send, [(i, "delivered") for i in range(100)], T0)
    assert send.counts() == counts(success=100, pending=20)
    assert state(send) is SendStatus.SUBMITTING
    record(send, 0, answers(send, 0), T0)
    assert state(send) is SendStatus.SUBMITTING
    assert claim(send) == 1
    settle(send, [(i, "delivered") for i in range(100, 120)], T0)
    assert state(send) is SendStatus.SUBMITTING
    record(send, 1, answers(send, 1), T0)
    assert state(send) is SendStatus.COMPLETED
    assert send.counts() == counts(success=120)


# -- Q8: no receipt after 72 hours is unknown, and stays charged ---------------------------------


def test_Q8_sending_messages_become_unknown_exactly_72_hours_after_hand_over() -> None:
    send = new_send(5, units=2)
    handed = T0 + timedelta(minutes=3)
    submit_all(send, at=handed, refused={4})
    settle(send, [(0, "delivered"), (1, "failed")], handed + timedelta(seconds=5))
    send.collect_events()
    assert send.next_expiry() == handed + H72

    early = send.expire(handed + H72 - timedelta(minutes=1))
    assert early == 0
    assert send.collect_events() == []
    assert send.counts() == counts(success=1, failed=2, sending=2)

    due = send.expire(handed + H72)
    assert due == 2
    assert statuses(send, range(5)) == [
        MessageStatus.SUCCESS,
        MessageStatus.FAILED,
        MessageStatus.UNKNOWN,
        MessageStatus.UNKNOWN,
        MessageStatus.FAILED,
    ]
    assert send.units_refunded == 4  # the two failures only: unknown stays charged
    assert state(send) is SendStatus.COMPLETED
    assert send.next_expiry() is None
    (event,) = send.collect_events()
    assert isinstance(event, Send.MessagesExpired)
    assert sorted(event.indices) == [2, 3]
    assert send.expire(handed + 2 * H72) == 0
    assert send.collect_events() == []


def test_Q8_only_batches_old_enough_expire() -> None:
    send = new_send(250)
    first, second, third = T0, T0 + timedelta(hours=10), T0 + timedelta(hours=30)
    record(send, 0, answers(send, 0), first)
    record(send, 1, answers(send, 1), second)
    settle(send, [(150, "delivered")], second)
    assert send.next_expiry() == first + H72
    record(send, 2, answers(send, 2), third)

    assert send.expire(first + H72) == 100
    assert send.counts() == counts(unknown=100, sending=149, success=1)
    assert send.message_status(100) is MessageStatus.SENDING
    assert send.next_expiry() == second + H72

    assert send.expire(second + H72 - timedelta(seconds=1)) == 0
    assert send.expire(second + H72) == 99
    assert send.message_status(150) is MessageStatus.SUCCESS
    assert send.next_expiry() == third + H72
    assert state(send) is SendStatus.SUBMITTED

    assert send.expire(third + H72) == 50
    assert send.counts() == counts(unknown=249, success=1)
    assert send.units_refunded == 0
    assert state(send) is SendStatus.COMPLETED


def test_Q8_next_expiry_skips_batches_with_nothing_sending() -> None:
    send = new_send(200)
    assert send.next_expiry() is None  # nothing handed over yet
    record(send, 0, answers(send, 0), T0)
    record(send, 1, answers(send, 1), T0 + timedelta(hours=1))
    settle(send, [(i, "delivered") for i in range(99)], T0)
    assert send.next_expiry() == T0 + H72
    settle(send, [(99, "failed")], T0)
    assert send.next_expiry() == T0 + timedelta(hours=1) + H72
    settle(send, [(i, "delivered") for i in range(100, 200)], T0)
    assert send.next_expiry() is None


def test_Q8_a_receipt_after_unknown_changes_nothing_and_refunds_nothing() -> None:
    send = new_send(2, units=2)
    submit_all(send)
    send.expire(T0 + H72)
    settled = settle(send, [(0, "failed"), (1, "delivered")], T0 + H72 + timedelta(days=1))
    assert settled == Settled(0, 0, 2, 0)
    assert send.counts() == counts(unknown=2)
    assert send.units_refunded == 0


def test_Q8_pending_messages_never_expire() -> None:
    send = new_send(150)
    record(send, 0, answers(send, 0), T0)
    assert send.expire(T0 + 10 * H72) == 100
    assert send.counts() == counts(unknown=100, pending=50)
    assert state(send) is SendStatus.SUBMITTING


# -- replay -----------------------------------------------------------------------------------


def test_replay_of_a_long_life_rebuilds_the_same_send() -> None:
    send = new_send(345, units=2, send_id=SEND_ID)
    events: list[Any] = list(send.collect_events())
    at = T0
    settle(send, [(305, "failed"), (306, "delivered")], at)  # not handed over yet: ignored
    for batch in range(send.batch_count):
        at += timedelta(hours=5)
        record(send, batch, answers(send, batch, refused={batch * 100 + 1}), at)
        settle(
            send,
            [(batch * 100 + k, "delivered") for k in range(2, 40)]
            + [(batch * 100 + k, "failed") for k in range(40, 45)]
            + [(batch * 100 + 1, "delivered"), (batch * 100 + 2, "failed")],  # ignored
            at + timedelta(seconds=5),
        )
        events += send.collect_events()
        if batch == 1:
            send.expire(T0 + timedelta(hours=5) + H72)
            events += send.collect_events()
    send.expire(at + H72)
    events += send.collect_events()
    settle(send, [(0, "failed"), (200, "delivered")], at + 2 * H72)  # too late
    events += send.collect_events()

    assert state(send) is SendStatus.COMPLETED
    assert send.units_refunded == 2 * send.counts()["failed"] > 0
    assert send.counts()["unknown"] > 0
    rebuilt = replay(events)
    assert rebuilt.id == SEND_ID
    assert snapshot(rebuilt) == snapshot(send)
    assert rebuilt.recipients == send.recipients
    assert rebuilt.units_charged == send.units_charged


# -- properties -------------------------------------------------------------------------------

RECEIPT_STATUS = st.sampled_from(["delivered", "failed"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 450), units=st.sampled_from([1, 2]))
def test_S5_S10_Q7_Q8_every_life_keeps_its_books(data: st.DataObject, n: int, units: int) -> None:
    """Random refusals at submission, receipts (early, duplicate, late, after expiry) and expiry
    runs: each message has exactly one status and, once final, keeps it; refunds are exactly the
    failed messages' units, never more than the charge; replay rebuilds the same send.

    The simulated carrier answers consistently, so receipts that come after a batch is claimed
    and before it is recorded are for messages their batch accepts (the refused-then-receipt
    case has its own test).
    """
    send = new_send(n, units=units)
    events: list[Any] = list(send.collect_events())
    refused = data.draw(st.frozensets(st.integers(0, n - 1)), label="refused")
    seen: list[tuple[int, str]] = []
    returned = 0
    final: dict[int, str] = {}
    now = T0

    def receipts(pool: Sequence[int]) -> list[tuple[int, str]]:
        if not pool:
            return []
        fresh = st.tuples(st.sampled_from(pool), RECEIPT_STATUS)
        drawn = data.draw(st.lists(fresh, max_size=30))
        if seen:
            drawn += data.draw(st.lists(st.sampled_from(seen), max_size=5))  # duplicates
        seen.extend(drawn)
        return drawn

    def check() -> None:
        nonlocal final
        got = send.counts()
        assert set(got) == set(ALL_STATUSES)
        assert sum(got.values()) == n == len(send.statuses)
        status = [send.message_status(i) for i in range(n)]
        for i, code in final.items():
            assert send.statuses[i] == code, f"message {i} left its final status"
        final = {
            i: send.statuses[i]
            for i, s in enumerate(status)
            if s in (MessageStatus.SUCCESS, MessageStatus.FAILED, MessageStatus.UNKNOWN)
        }
        assert send.units_refunded == units * got["failed"] == returned
        assert 0 <= send.units_refunded <= send.units_charged == n * units
        for batch, handed in enumerate(send.batch_times):
            for i in send.batch_indices(batch):
                if status[i] is MessageStatus.UNKNOWN:
                    assert now - handed >= H72
                if i in refused:
                    assert status[i] is MessageStatus.FAILED

    while send.next_batch is not None:
        batch = send.next_batch
        assert claim(send, now) == batch  # from here its messages may be with the carrier
        early = [i for i in send.batch_indices(batch) if i not in refused]
        returned += settle(send, receipts(early), now).refund_units
        check()
        now += timedelta(minutes=data.draw(st.integers(0, 3000)))
        returned += record(send, batch, answers(send, batch, refused), now)
        check()
        upto = n if send.next_batch is None else send.next_batch * BATCH_SIZE
        anyone = [i for i in range(n) if i < upto or i not in refused]
        returned += settle(send, receipts(anyone), now).refund_units
        check()
        if data.draw(st.booleans()):
            now += timedelta(hours=data.draw(st.integers(0, 80)))
            send.expire(now)
            check()
        events += send.collect_events()
    now += timedelta(hours=data.draw(st.integers(0, 80)))
    returned += settle(send, receipts(range(n)), now).refund_units
    check()
    send.expire(now)
    check()
    expiry = send.next_expiry()
    assert expiry is None or expiry > now
    assert state(send) is (SendStatus.COMPLETED if expiry is None else SendStatus.SUBMITTED)
    now += 3 * H72
    send.expire(now)
    check()
    assert state(send) is SendStatus.COMPLETED
    assert send.next_expiry() is None
    events += send.collect_events()
    assert snapshot(replay(events)) == snapshot(send)


def test_a_copy_of_a_send_changes_apart_from_it_and_shares_only_what_never_changes() -> None:
    """The repository's cache hands every command a deep copy of the cached send: a command
    refused halfway must leave the cached one as it was. The copy shares the recipients (no
    event changes them, and copying 10,000 of them per batch was most of a hand-over)."""
    send = new_send(250, send_id=SEND_ID)
    send.collect_events()
    record(send, 0, answers(send, 0, refused={3}))
    settle(send, [(5, "delivered")])
    before = snapshot(send)
    handled, withheld, batch_times = set(send.handled), set(send.withheld), list(send.batch_times)

    copy = deepcopy(send)
    record(copy, 1, answers(copy, 1, refused={101}))
    settle(copy, [(6, "failed"), (105, "delivered")], T0 + timedelta(minutes=1))
    copy.handled.add("request-1")
    copy.expire(T0 + H72)

    assert snapshot(send) == before
    assert (send.handled, send.withheld, send.batch_times) == (handled, withheld, batch_times)
    assert send.claim is None and send.next_batch == 1 and copy.next_batch == 2
    assert copy.recipients is send.recipients
    assert snapshot(copy) != before


def test_S5_a_claim_may_cover_several_batches_recorded_one_by_one_in_order() -> None:
    send = new_send(450)
    lease = T0 + timedelta(minutes=1)
    claimed = send.claim_next_batch("a", "worker-a", T0, lease, T0, batches=3)
    assert (claimed.batch, claimed.batches, list(claimed.claimed)) == (0, 3, [0, 1, 2])
    assert all(send.handed_over(i) for i in (0, 150, 299)) and not send.handed_over(300)
    settle(send, [(250, "delivered")])  # a receipt for a claimed batch not yet recorded counts
    with pytest.raises(QuotaConflict):
        send.record_batch(1, answers(send, 1), T0)  # batch 0 comes first
    send.record_batch(0, answers(send, 0), T0)
    again = send.claim_next_batch("a", "worker-a", T0, lease, T0, batches=3)  # a retried save
    assert list(again.claimed) == [1, 2]  # what the claim still holds, not a new claim
    busy = send.claim_next_batch("b", "worker-b", T0, lease, T0, batches=3)
    assert busy.busy and busy.batch is None
    send.record_batch(1, answers(send, 1), T0)
    assert send.claim is not None  # batch 2 is still claimed
    send.record_batch(2, answers(send, 2), T0)
    assert send.claim is None
    with pytest.raises(QuotaConflict):
        send.record_batch(3, answers(send, 3), T0)  # never claimed
    last = send.claim_next_batch("b", "worker-b", T0, lease, T0, batches=3)
    assert list(last.claimed) == [3, 4]  # no more than the send has
    assert send.counts()["success"] == 1


def test_S5_a_lapsed_claim_on_several_batches_is_taken_over_from_the_first_unrecorded() -> None:
    send = new_send(500)
    lease = T0 + timedelta(minutes=1)
    send.claim_next_batch("a", "worker-a", T0, lease, T0, batches=4)
    send.record_batch(0, answers(send, 0), T0)  # then worker a dies
    taken = send.claim_next_batch("b", "worker-b", T0, lease + timedelta(minutes=1), lease,
                                  batches=2)  # fmt: skip
    assert list(taken.claimed) == [1, 2]
    assert send.claim is not None and send.claim.claim_id == "b"
    assert not send.handed_over(300)  # batch 3 belonged to the lapsed claim only
    with pytest.raises(QuotaConflict):
        send.record_batch(3, answers(send, 3), T0)


def test_S5_a_claim_stored_before_claims_covered_several_batches_replays_as_one_batch() -> None:
    """Version 1 of ``HandoverClaimed`` had no ``batches``: it is upcast to a claim of one."""
    send = new_send(250, send_id=SEND_ID)
    events: list[Any] = list(send.collect_events())
    assert claim(send) == 0
    events += send.collect_events()
    mapper = Application[UUID]().mapper  # the library's own transcoding of stored events
    stored = mapper.to_stored_event(events[-1])
    state = mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2 and state.pop("batches") == 1
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                      mapper.transcoder.encode(state))  # fmt: skip
    rebuilt = replay([events[0], mapper.to_domain_event(old)])
    assert rebuilt.claim is not None and (rebuilt.claim.batch, rebuilt.claim.batches) == (0, 1)
    assert rebuilt.handed_over(99) and not rebuilt.handed_over(100)

"""The SMPP carrier against a real SMPP server we did not write (node-smpp, ``tests/smsc``):
the contract's endings, long Chinese text, receipts before their response, throttling,
refused binds, a carrier dying mid-send, unbind without an answer, replies, and a restarted
worker that never submits twice what the SMSC took."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from smsplat.adapters.carrier_router import CarrierRouter, network_of
from smsplat.adapters.smpp_carrier import CarrierUnavailable, SmppCarrier, SmppEndpoint
from smsplat.adapters.smpp_journal import SmppJournal
from smsplat.commands.ports import OutgoingMessage, Receipt
from smsplat.infra.event_store import read_store

from tests.smsc_server import Smsc, running_smsc
from tests.timing import wait_until

pytestmark = pytest.mark.postgres

LONG = (
    "【花店】" + "会员日到店有礼，欢迎光临，凭短信领取小礼品一份。" * 6
)  # 146 characters: 3 parts


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    with running_smsc() as server:
        yield server


@pytest.fixture
def journal(pg_url: str) -> SmppJournal:
    kept = SmppJournal(read_store(pg_url, 5.0, 30.0))
    kept.create_tables()
    return kept


def carrier(smsc: Smsc, journal: SmppJournal, name: str = "a", **entry: Any) -> SmppCarrier:
    query = entry.pop("query", {})
    url = smsc.url(entry.pop("system_id", "smsplat"), **query)
    return SmppCarrier(SmppEndpoint.parse({"name": name, "url": url, **entry}), journal)


def messages(*phones: str, text: str = "【花店】您好，会员日到店有礼。") -> list[OutgoingMessage]:
    send = uuid.uuid4()
    return [OutgoingMessage(f"{send}.{i}", phone, text) for i, phone in enumerate(phones)]


def settled(journal: SmppJournal, count: int) -> dict[str, str]:
    """Wait for ``count`` final messages; their receipts by message id."""
    seen: dict[str, Receipt] = {}

    def enough() -> bool:
        seen.update({r.message_id: r for r in journal.due_receipts(datetime.now(UTC))})
        return len(seen) >= count

    assert wait_until(enough, timeout=60), seen
    return {ident: r.status for ident, r in seen.items()}


def test_S10_Q7_the_contracts_endings_and_long_chinese_text(
    smsc: Smsc, journal: SmppJournal
) -> None:
    bind = carrier(smsc, journal, query={"window": 8})
    batch = messages("13812340005", "13812340001", "13812340002", "13812340003")
    batch += messages("13812340006", text=LONG)
    try:
        answers = bind.submit_some(batch)
        receipts = settled(journal, 3)  # 0002 never answers: Q8 will say unknown
    finally:
        bind.close()
    assert [a.accepted if a else None for a in answers] == [True, True, True, False, True]
    assert answers[3] is not None and answers[3].error == "carrier_refused_0x45"  # 0003
    assert receipts == {
        batch[0].message_id: "delivered", batch[1].message_id: "failed",
        batch[4].message_id: "delivered",
    }  # fmt: skip
    taken = {m["destination"]: m for m in smsc.messages()}
    long = taken["8613812340006"]
    assert (long["parts"], long["complete"], long["dataCoding"]) == (3, True, 8)
    assert long["text"] == LONG  # reassembled intact on the server's side
    assert "8613812340003" not in taken


def test_S10_receipts_before_their_response_are_parked_never_dropped(
    smsc: Smsc, journal: SmppJournal
) -> None:
    smsc.configure(receiptFirst=True)
    bind = carrier(smsc, journal, query={"window": 16})
    batch = messages(*[f"1381234{n:04d}" for n in range(10, 60)])
    try:
        assert all(a and a.accepted for a in bind.submit_some(batch))
        assert set(settled(journal, 50).values()) == {"delivered"}
    finally:
        bind.close()
    assert journal.parked() == 0


def test_throttling_is_waited_out_and_nothing_is_sent_twice(
    smsc: Smsc, journal: SmppJournal
) -> None:
    smsc.configure(throttleEvery=3)
    bind = carrier(smsc, journal, query={"window": 4})
    batch = messages(*[f"1381234{n:04d}" for n in range(10, 30)])
    try:
        assert all(a and a.accepted for a in bind.submit_some(batch))
    finally:
        bind.close()
    assert bind.counters.throttled > 0
    destinations = [m["destination"] for m in smsc.messages()]
    assert sorted(destinations) == sorted(f"86{m.phone}" for m in batch)  # each once


def test_a_refused_bind_fails_over_to_the_next_carrier(smsc: Smsc, journal: SmppJournal) -> None:
    smsc.configure(rejectSystemIds=["refused"])
    first = carrier(smsc, journal, "first", system_id="refused", priority=10)
    second = carrier(smsc, journal, "second", priority=1)
    router = CarrierRouter([second, first], journal)
    try:
        answers = router.submit(messages("13812340005", "13812340006"), datetime.now(UTC))
        assert all(a.accepted for a in answers)
        health = {c["name"]: c for c in router.health()}
        assert health["first"]["state"] == "refused" and health["second"]["state"] == "bound"
        with pytest.raises(CarrierUnavailable):  # no carrier left for a number
            CarrierRouter([first], journal).submit(messages("13812340007"), datetime.now(UTC))
    finally:
        router.close()


def test_a_carrier_that_stops_mid_send_fails_over_and_every_message_is_handed_over(
    journal: SmppJournal,
) -> None:
    with running_smsc() as dying, running_smsc() as standing:
        dying.configure(closeAfterSubmits=12)
        first = carrier(dying, journal, "first", priority=10, query={"window": 4},
                        networks=["cmcc"])  # fmt: skip
        second = carrier(standing, journal, "second", priority=1, networks=["cmcc"])
        router = CarrierRouter([first, second], journal)
        batch = messages(*[f"1381234{n:04d}" for n in range(100, 160)])
        try:
            answers = router.submit(batch, datetime.now(UTC))
        finally:
            router.close()
        assert all(a.accepted for a in answers)
        reached = {m["destination"] for m in dying.messages()} | {
            m["destination"] for m in standing.messages()
        }
        assert reached == {f"86{m.phone}" for m in batch}  # every recipient reached
        twice = len(dying.messages()) + len(standing.messages()) - len(batch)
        assert 0 <= twice <= 4  # at most the window in flight when it died
        assert first.state == "down" and first.last_error


def test_an_unbind_the_server_never_answers_is_not_an_error(
    smsc: Smsc, journal: SmppJournal
) -> None:
    smsc.configure(ignoreUnbind=True)
    bind = carrier(smsc, journal)
    assert bind.submit_some(messages("13812340005"))[0] is not None
    started = time.monotonic()
    bind.close()  # smpplib's unbind() raises here; ours does not
    assert time.monotonic() - started < 60  # not smpplib's wait for an answer that never comes
    assert bind.state == "unbound"


def test_replies_reach_the_platform_with_their_text(smsc: Smsc, journal: SmppJournal) -> None:
    replies: list[tuple[str, str, str]] = []
    bind = SmppCarrier(SmppEndpoint.parse({"name": "a", "url": smsc.url()}), journal,
                       on_reply=lambda *reply: replies.append(reply))  # fmt: skip
    try:
        bind.submit_some(messages("13812340005"))  # binds
        assert smsc.reply("8613812340005", "1069001", "TD") == 1
        assert smsc.reply("8613812340006", "1069002", "退订") == 1
        assert wait_until(lambda: len(replies) == 2, timeout=30)
    finally:
        bind.close()
    assert replies == [("8613812340005", "1069001", "TD"), ("8613812340006", "1069002", "退订")]


def test_S5_a_restarted_worker_never_submits_again_what_the_smsc_took(
    smsc: Smsc, journal: SmppJournal
) -> None:
    batch = messages("13812340005", "13812340006", text=LONG)
    first = carrier(smsc, journal)
    try:
        before = first.submit_some(batch)
    finally:
        first.close()
    again = carrier(smsc, journal)  # a worker taking the batch over after a crash
    try:
        after = again.submit_some(batch)
    finally:
        again.close()
    assert after == before
    assert len(smsc.messages()) == 2 and smsc.stats()["parts"] == 6


def test_numbers_are_routed_by_their_network() -> None:
    assert [network_of(p) for p in ("13812345678", "18612345678", "18912345678")] == [
        "cmcc", "unicom", "telecom",
    ]  # fmt: skip
    assert network_of("19212345678") is None  # China Broadnet: any carrier may take it


def test_an_smsc_that_stops_answering_is_given_up_within_the_deadline(
    smsc: Smsc, journal: SmppJournal
) -> None:
    bind = carrier(smsc, journal, query={"response_timeout": 10})
    try:
        assert bind.submit_some(messages("13812340005"))[0] is not None  # bound, answering
        smsc.configure(silent=True)
        started = time.monotonic()
        answers = bind.submit_some(messages(*[f"1381234{n:04d}" for n in range(10, 30)]))
        assert answers == [None] * 20  # none taken for sure: offered to another carrier
        assert time.monotonic() - started < 120  # one deadline for the batch (20 parts: not 200 s)
        assert bind.state == "down" and "no response" in (bind.last_error or "")
    finally:
        bind.close()

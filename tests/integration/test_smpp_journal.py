"""The SMPP journal on both stores: parts and receipts in whatever order they come, each
receipt applied once, each final message reported once (S10, Q7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from smsplat.adapters.smpp_journal import DELIVERED, FAILED, AcceptedPart, SmppJournal
from smsplat.infra.event_store import read_store

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def journal(store_url: str) -> SmppJournal:
    kept = SmppJournal(read_store(store_url))
    kept.create_tables()
    return kept


def test_S10_each_receipt_counts_once_whether_it_comes_before_or_after_its_part(
    journal: SmppJournal,
) -> None:
    # message m has two parts (c1, c2), n one (c3); c1's receipts come before c1 is known
    journal.record("a", [], [("c1", FAILED, T0)])
    journal.record("a", [], [("c1", DELIVERED, T0 + timedelta(seconds=1))])  # repeated
    assert journal.parked() == 1  # the first one waits; the repeat changes nothing
    journal.record(
        "a",
        [AcceptedPart("m", 1, 2, "c1"), AcceptedPart("m", 2, 2, "c2"),
         AcceptedPart("n", 1, 1, "c3")],
        [("c2", DELIVERED, T0), ("c2", FAILED, T0)],  # two in one write: the first wins
    )  # fmt: skip
    assert journal.parked() == 0
    assert {r.message_id: r.status for r in journal.due_receipts(T0)} == {"m": FAILED}
    journal.record("a", [], [("c3", DELIVERED, T0), ("c3", FAILED, T0)])  # known: not parked
    journal.record("b", [], [("c3", FAILED, T0)])  # another carrier's c3 is not a's
    assert journal.parked() == 1
    assert [(r.message_id, r.status) for r in journal.due_receipts(T0)] == [("n", DELIVERED)]
    assert journal.due_receipts(T0) == []  # each final message is reported once
    assert journal.submitted(["m", "n", "x"]) == {"m": "c1", "n": "c3"}


def test_S10_a_receipt_parked_beside_a_racing_write_is_applied_by_the_sweep(
    journal: SmppJournal,
) -> None:
    """A receipt parked by one write while another wrote its part (neither saw the other's
    rows) is applied by ``due_receipts``' sweep."""
    journal.record("a", [], [("c9", DELIVERED, T0)])
    with journal.db.transaction() as tx:  # the part written as a racing write would leave it
        tx.execute(
            "INSERT INTO smpp_parts (carrier, carrier_id, message_id, part, parts, state, "
            "final_at, reported) VALUES (%s, %s, %s, %s, %s, NULL, NULL, %s)",
            ("a", "c9", "k", 1, 1, False),
        )
    assert [(r.message_id, r.status) for r in journal.due_receipts(T0)] == [("k", DELIVERED)]
    assert journal.parked() == 0

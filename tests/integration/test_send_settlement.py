"""Accepting a send and charging it are one transaction; so are a failure and its refund."""

from __future__ import annotations

import threading
from uuid import UUID, uuid4

import pytest
from smsplat.commands.quota import QuotaChange, charge_reference
from smsplat.commands.send_acceptance import SendAcceptance
from smsplat.domain.carrier_input import CarrierReceipt
from smsplat.domain.errors import InsufficientQuota, NotFound
from smsplat.domain.handover import Handover
from smsplat.domain.send_draft import SendDraft
from smsplat.domain.sending import Send
from smsplat.infra.bootstrap import Container
from smsplat.projections.ledger_audit import audit_ledger

from tests.integration.history import funded_account


def _draft(account: UUID, send_id: UUID, recipients: int, units: int = 1) -> SendDraft:
    phones = tuple(f"1381234{n:04d}" for n in range(recipients))
    return SendDraft(
        send_id, account, uuid4(), "mass", "notice", "site", "【花店】会员日", phones,
        (units,) * recipients,
    )  # fmt: skip


def _accept(container: Container, draft: SendDraft) -> tuple[Send, QuotaChange]:
    return SendAcceptance(container.quota).accept(draft, "a")


def _hand_over(container: Container, send_id: UUID, handovers: list[Handover]) -> None:
    """Claim batch 0 and record the carrier's answers for it."""
    _, claim = container.lifecycle.claim_batch(send_id, "claim-1", "test")
    assert claim.batch == 0
    container.lifecycle.record_batch(send_id, 0, handovers)


def test_Q5_a_send_and_its_charge_are_stored_together(container: Container) -> None:
    """Q5: the units are charged at acceptance, in the same transaction as the send."""
    account = funded_account(container)
    send_id = uuid4()
    _, change = _accept(container, _draft(account, send_id, 250, 2))
    assert change.balance.charged_total == 500 and change.balance.available == 500
    stored = container.quota.send(send_id)
    assert stored.total == 250 and stored.units_charged == 500
    assert charge_reference(stored).type == "send"


def test_Q10_a_refused_send_stores_nothing(container: Container) -> None:
    """Q10: 1,001 units wanted, 1,000 available: no send, no charge, the exact text."""
    account = funded_account(container)
    send_id = uuid4()
    with pytest.raises(InsufficientQuota) as refused:
        _accept(container, _draft(account, send_id, 1001))
    assert refused.value.available == 1000
    with pytest.raises(NotFound):
        container.quota.send(send_id)
    assert container.quota.balance(account).charged_total == 0


def test_Q5_accepting_the_same_send_again_charges_once(container: Container) -> None:
    """A retried acceptance (same send id, e.g. the same Idempotency-Key) is one charge."""
    account = funded_account(container)
    send_id = uuid4()
    first, _ = _accept(container, _draft(account, send_id, 10))
    again, _ = _accept(container, _draft(account, send_id, 10))
    assert again.id == first.id and again.version == first.version
    assert container.quota.balance(account).charged_total == 10


def test_Q7_concurrent_duplicate_receipts_refund_each_failure_once(container: Container) -> None:
    """Q7: eight threads post the same failed receipts at once: each failure refunded once."""
    account = funded_account(container)
    send_id = uuid4()
    _accept(container, _draft(account, send_id, 100))
    _hand_over(container, send_id, [Handover(i, f"c{i}") for i in range(100)])
    failed = [CarrierReceipt(i, "failed") for i in range(0, 100, 3)]  # 34 failures
    refunded: list[int] = []

    def post() -> None:
        refunded.append(container.lifecycle.record_receipts(send_id, failed).refunded_units)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    send = container.quota.send(send_id)
    assert send.counts()["failed"] == 34 and send.units_refunded == 34
    assert sorted(refunded) == [0] * 7 + [34]  # one post refunded them; the others were told
    balance = container.quota.balance(account)
    assert balance.refunded_total == 34 and balance.available == 1000 - 100 + 34
    container.read_models.catch_up()
    report = audit_ledger(container.quota, container.ledger, container.send_views)
    assert report.ok, report.problems


def test_Q7_a_batch_refused_at_submission_is_refunded_with_its_record(container: Container) -> None:
    account = funded_account(container)
    send_id = uuid4()
    _accept(container, _draft(account, send_id, 5, 2))

    handovers = [Handover(i, None if i < 2 else f"c{i}", "carrier_refused") for i in range(5)]
    _hand_over(container, send_id, handovers)
    assert container.quota.balance(account).refunded_total == 4
    assert container.quota.send(send_id).counts()["failed"] == 2

"""Q7, Q8, Q12: `smsplat ledger verify` reconciles every message with its ledger entries.

A success or unknown message is charged once; a failed one is charged and refunded once; one
skipped is never charged; the sums of each send and of the pool agree. The verifier trusts
neither the read models nor the aggregates' own counters: it folds the stored events itself.
Each test plants a defect by appending events by hand in a throwaway database and checks
that the command exits 1 naming the message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from uuid import UUID

import pytest
from smsplat.commands.command_types import RecordReceipts, SendMassSend
from smsplat.commands.receipts import read_receipt
from smsplat.commands.recipient_sources import Numbers
from smsplat.domain.ledger import Reference
from smsplat.domain.sending import Send, message_id
from smsplat.infra.bootstrap import Container

from tests.conftest import make_container
from tests.integration.history import funded_account

pytestmark = pytest.mark.ledger_tampered  # these databases are broken on purpose


def _verify(url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SMS_DATABASE_URL": url, "SMS_OPERATOR_TOKEN": "x"}
    return subprocess.run(
        [sys.executable, "-m", "smsplat.api.cli", "ledger", "verify"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _handed_over_send(c: Container, recipients: int = 5) -> Send:
    account = funded_account(c, size=1000)
    template = c.templates.submit(
        account,
        {"type": "mass", "kind": "notice", "signature": "花店", "content": "会员日到店有礼。"},
        "account",
    )
    c.templates.approve(template.id, "operator")
    numbers = [f"1393123{n:04d}" for n in range(1000, 1000 + recipients)]
    send_mass = SendMassSend(account, template.id, Numbers(numbers), None, "site", "account")
    accepted = c.bus.handle(send_mass)
    c.due_work.run()
    send = c.quota.send(accepted.send.id)
    assert send.counts()["sending"] == recipients
    return send


def _record_failed(c: Container, message: str) -> None:
    """The carrier reports ``message`` failed."""
    c.bus.handle(RecordReceipts([read_receipt({"message_id": message, "status": "failed"})]))


@pytest.fixture
def c(pg_url: str) -> Iterator[Container]:
    container = make_container(pg_url)
    yield container
    container.close()


def test_Q12_a_clean_history_verifies(c: Container, pg_url: str) -> None:
    send = _handed_over_send(c)
    _record_failed(c, message_id(send.id, 1))
    done = _verify(pg_url)
    assert done.returncode == 0, done.stderr
    assert "PROBLEM" not in done.stderr


def test_Q7_a_planted_lost_refund_makes_verify_exit_1_and_name_the_message(
    c: Container, pg_url: str
) -> None:
    """A failed receipt stored without its refund: what the receipt race used to leave."""
    send = c.quota.send(_handed_over_send(c).id)
    send.trigger_event(Send.ReceiptsRecorded, delivered=[], failed=[3])
    c.quota.save(send)
    done = _verify(pg_url)
    assert done.returncode == 1, done.stdout
    assert message_id(send.id, 3) in done.stderr
    assert "never refunded" in done.stderr


def test_Q7_a_refund_for_a_message_that_did_not_fail_is_named(c: Container, pg_url: str) -> None:
    send = _handed_over_send(c)
    pool = c.quota.pool_for(UUID(send.account_id))
    pool.refund(Reference("message", message_id(send.id, 2)), Reference("send", str(send.id)),
                1, "site", "system", c.clock.now())  # fmt: skip
    c.quota.save(pool)
    done = _verify(pg_url)
    assert done.returncode == 1
    assert message_id(send.id, 2) in done.stderr


def test_Q7_a_message_refunded_twice_is_named(c: Container, pg_url: str) -> None:
    send = _handed_over_send(c)
    _record_failed(c, message_id(send.id, 4))
    pool = c.quota.pool_for(UUID(send.account_id))
    pool.refund(Reference("message", message_id(send.id, 4)), Reference("send", str(send.id)),
                1, "site", "system", c.clock.now())  # fmt: skip
    c.quota.save(pool)
    done = _verify(pg_url)
    assert done.returncode == 1
    assert message_id(send.id, 4) in done.stderr


def test_Q5_a_send_charged_twice_is_named(c: Container, pg_url: str) -> None:
    send = _handed_over_send(c)
    pool = c.quota.pool_for(UUID(send.account_id))
    pool.charge(Reference("send", str(send.id)), 5, "site", "system", c.clock.now())
    c.quota.save(pool)
    done = _verify(pg_url)
    assert done.returncode == 1
    assert str(send.id) in done.stderr


def test_Q12_a_charge_no_send_explains_is_named(c: Container, pg_url: str) -> None:
    send = _handed_over_send(c)
    pool = c.quota.pool_for(UUID(send.account_id))
    pool.charge(Reference("message", "invented.0"), 1, "site", "system", c.clock.now())
    c.quota.save(pool)
    done = _verify(pg_url)
    assert done.returncode == 1
    assert "invented.0" in done.stderr

"""S5: once accepted, a send reaches the carrier to the last recipient, exactly once, whatever
happens to the worker. A 10,000-recipient send; `smsplat worker` killed with SIGKILL at four
points and restarted; afterwards every recipient was taken by the carrier once, every batch is
recorded once, every unit is in the ledger, and the read models equal a rebuild."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from smsplat.adapters.clock import SimulatedClock
from smsplat.domain.sending import Send, message_id

from tests.conftest import START, make_container
from tests.integration.history import funded_account
from tests.integration.test_projections import assert_exactly_once_and_rebuildable

RECIPIENTS = 10_000


def _batches_recorded(send: Send) -> int:
    return len(send.batch_times)


@pytest.mark.slow
def test_S5_a_worker_killed_mid_send_hands_every_recipient_over_exactly_once(
    pg_url: str,
) -> None:
    c = make_container(pg_url, SimulatedClock(START))
    try:
        account = funded_account(c, size=10_000)
        template = c.templates.submit(
            account,
            {"type": "mass", "kind": "notice", "signature": "花店", "content": "会员日到店有礼。"},
            "account",
        )
        c.templates.approve(template.id, "operator")
        # 10,000 distinct ordinary numbers (none ends in the carrier's 0001-0003)
        numbers = [f"139{n:04d}{5000 + n % 4000:04d}" for n in range(RECIPIENTS)]
        accepted = c.sending.send_mass(account, template.id, numbers, None, None, "site", "a")
        send_id = accepted.send.id
        assert c.quota.balance(account).charged_total == RECIPIENTS

        env = {
            **os.environ,
            "SMS_DATABASE_URL": pg_url,
            "SMS_SIMULATION": "1",
            "SMS_OPERATOR_TOKEN": "x",
        }
        command = [sys.executable, "-m", "smsplat.infra.cli", "worker"]
        targets = sorted(random.Random(17).sample(range(5, 95), 4))
        kills = 0
        for target in targets:
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while _batches_recorded(c.quota.send(send_id)) < target:
                assert time.monotonic() < deadline, "the worker made no progress"
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            assert _batches_recorded(c.quota.send(send_id)) < 100, "killed too late"

        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while c.quota.send(send_id).next_batch is not None:
                assert time.monotonic() < deadline, "the send was not finished"
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)

        send = c.quota.send(send_id)
        assert send.counts()["pending"] == 0
        assert send.counts()["sending"] + send.counts()["success"] == RECIPIENTS
        # every recipient taken by the carrier exactly once; retries bounded by the kills
        with c.db.reading() as tx:
            taken = {r[0] for r in tx.execute("SELECT message_id FROM sim_carrier_messages")}
        alerts = {m for m in taken if m.startswith("alert.")}
        assert len(alerts) == 1  # the send used the last unit: one low-balance SMS (Q9)
        assert taken - alerts == {message_id(send_id, i) for i in range(RECIPIENTS)}
        assert c.carrier.sent == RECIPIENTS + 1
        assert RECIPIENTS + 1 <= c.carrier.handovers <= RECIPIENTS + 1 + 100 * kills
        # every batch recorded once, in order
        batches = [
            e.batch for e in c.quota.events.get(send_id) if isinstance(e, Send.BatchSubmitted)
        ]
        assert batches == list(range(100))
        # every unit in the ledger, read models exact and rebuildable
        balance = c.quota.balance(account)
        assert (balance.charged_total, balance.refunded_total, balance.available) == (
            RECIPIENTS,
            0,
            0,
        )
        c.catch_up_projections()
        row = c.send_views.send(str(send_id))
        assert row is not None and row.counts["pending"] == 0
        assert_exactly_once_and_rebuildable(c)
    finally:
        c.close()

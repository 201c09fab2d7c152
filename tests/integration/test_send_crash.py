"""S5: once accepted, a send reaches the carrier to the last recipient, whatever happens to
the worker. A 10,000-recipient send; `smsplat worker` killed with SIGKILL at four points and
restarted. The carrier deduplicates nothing, so this measures the bound honestly: every
recipient reached the carrier at least once, and only the batch in flight at each kill may
have gone twice (at most 100 messages a kill); every batch is recorded once, every unit is in
the ledger, the per-message verification passes, and the read models equal a rebuild."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from smsplat.adapters.clock import SimulatedClock
from smsplat.commands.command_types import SendMassSend
from smsplat.commands.recipient_sources import Numbers
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
        mass = SendMassSend(account, template.id, Numbers(numbers), None, "site", "a")
        accepted = c.bus.handle(mass)
        send_id = accepted.send.id
        assert c.quota.balance(account).charged_total == RECIPIENTS

        env = {
            **os.environ,
            "SMS_DATABASE_URL": pg_url,
            "SMS_SIMULATION": "1",
            "SMS_OPERATOR_TOKEN": "x",
            "SMS_HANDOVER_LEASE_SECONDS": "2",  # a dead worker's claim is taken over soon
        }
        command = [sys.executable, "-m", "smsplat.api.cli", "worker"]
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
        # every recipient reached the carrier; only the batches in flight at a kill went twice
        counts = c.carrier.handovers_by_message()
        alerts = {m for m in counts if m.startswith("alert.")}
        assert len(alerts) == 1 and counts[alerts.pop()] == 1  # Q9: one low-balance SMS, once
        expected = {message_id(send_id, i) for i in range(RECIPIENTS)}
        assert {m for m in counts if not m.startswith("alert.")} == expected
        duplicates = sum(n - 1 for m, n in counts.items() if m in expected)
        assert duplicates <= 100 * kills, f"{duplicates} duplicates after {kills} kills"
        print(f"\nS5 crash bound: {duplicates} messages handed over twice after {kills} kills "
              f"(at most {100 * kills})")  # fmt: skip
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
        c.read_models.catch_up()
        row = c.send_views.send(str(send_id))
        assert row is not None and row.counts["pending"] == 0
        assert_exactly_once_and_rebuildable(c)
    finally:
        c.close()

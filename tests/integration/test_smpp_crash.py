"""S5 against a real SMPP server: a 10,000-recipient send, ``smsplat worker`` (with
``SMS_CARRIERS`` pointing at node-smpp) killed with SIGKILL at four points and restarted.
SMPP has no field for our message id, so the bound is honest, counted on the server's side:
every recipient reached the SMSC, and a kill sends at most the bind's window twice (the
parts in flight without an answer; every part answered is journalled and never sent again).
The ledger verifies when the database is dropped; the read models equal a rebuild."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from smsplat.adapters.clock import SimulatedClock
from smsplat.commands.command_types import SendMassSend
from smsplat.commands.recipient_sources import Numbers
from smsplat.domain.sending import Send

from tests.conftest import START, make_container
from tests.integration.history import funded_account
from tests.integration.test_projections import assert_exactly_once_and_rebuildable
from tests.integration.test_sending_flow import MASS, approved_template
from tests.smsc_server import running_smsc

RECIPIENTS = 10_000
WINDOW = 16

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _batches_recorded(send: Send) -> int:
    return len(send.batch_times)


def test_S5_a_worker_killed_mid_send_reaches_every_recipient_over_smpp(pg_url: str) -> None:
    with running_smsc() as smsc:
        carriers = json.dumps([{"name": "cmcc-1", "url": smsc.url(window=WINDOW)}])
        c = make_container(pg_url, SimulatedClock(START), carriers=carriers, simulation=True)
        try:
            account = funded_account(c, size=10_000)
            template = approved_template(c, account, MASS)
            numbers = [f"139{n:04d}{5000 + n % 4000:04d}" for n in range(RECIPIENTS)]
            send_id = c.bus.handle(
                SendMassSend(account, template, Numbers(numbers), None, "site", "a")
            ).send.id
            env = {**os.environ, "SMS_DATABASE_URL": pg_url, "SMS_SIMULATION": "1",
                   "SMS_OPERATOR_TOKEN": "x", "SMS_CARRIERS": carriers,
                   "SMS_HANDOVER_LEASE_SECONDS": "2"}  # fmt: skip
            command = [sys.executable, "-m", "smsplat.api.cli", "worker"]
            kills = 0
            for target in sorted(random.Random(13).sample(range(5, 95), 4)):
                proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
                deadline = time.monotonic() + 300
                while _batches_recorded(c.quota.send(send_id)) < target:
                    assert time.monotonic() < deadline, "the worker made no progress"
                    time.sleep(0.002)
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 300
                while c.quota.send(send_id).next_batch is not None:
                    assert time.monotonic() < deadline, "the send was not finished"
                    time.sleep(0.05)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)

            reached = Counter(m["destination"] for m in smsc.messages())
            assert reached.pop("8613800138000", 0) >= 1  # Q9: the low-balance alert SMS
            assert set(reached) == {f"86{p}" for p in numbers}  # every recipient, once or more
            duplicates = sum(n - 1 for n in reached.values())
            assert duplicates <= WINDOW * kills, f"{duplicates} twice after {kills} kills"
            print(f"\nS5 over SMPP: {duplicates} messages reached the SMSC twice after {kills} "
                  f"kills (bound: the window, {WINDOW}, a kill)")  # fmt: skip
            send = c.quota.send(send_id)
            assert send.counts()["pending"] == 0
            assert c.quota.balance(account).charged_total == RECIPIENTS
            c.read_models.catch_up()
            assert_exactly_once_and_rebuildable(c)
        finally:
            c.close()

"""The webhook dispatcher SIGKILLed mid-delivery, several times, and restarted: every
delivery still reaches the receiver (verified with ``standardwebhooks``), at least once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from smsplat.adapters.clock import SimulatedClock
from smsplat.commands.command_types import CreateWebhook, SendMassSend
from smsplat.commands.recipient_sources import Numbers
from smsplat.commands.webhook_dispatch import PARALLEL
from smsplat.domain.sending import message_id
from smsplat.infra.bootstrap import Container

from tests.conftest import START, make_container
from tests.integration.history import funded_account
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.postgres

RECIPIENTS = 300


def _all_delivered(c: Container, receiver: Receiver) -> bool:
    """Every delivery the outbox made is delivered, and the receiver verified each."""
    with c.db.reading() as tx:
        made: dict[Any, Any] = dict(
            tx.execute("SELECT delivery_id, status FROM webhook_deliveries")
        )
    received = {i for i, _ in receiver.verified}
    return bool(made) and set(made.values()) == {"delivered"} and set(made) <= received


def _told_sending(receiver: Receiver) -> set[str]:
    return {b["data"]["message_id"] for _, b in receiver.verified
            if b["data"]["status"] == "sending"}  # fmt: skip


def test_a_dispatcher_killed_mid_delivery_loses_nothing(pg_url: str) -> None:
    receiver = Receiver(delay=0.02)  # each answer takes a moment: kills land mid-delivery
    c = make_container(pg_url, SimulatedClock(START), webhook_allow_private=True)
    try:
        account = funded_account(c, size=1000)
        hook = c.bus.handle(CreateWebhook(account, receiver.url, ["message.status"], None, False))
        receiver.secrets = [hook.secret]
        template = c.templates.submit(
            account,
            {"type": "mass", "kind": "notice", "signature": "花店", "content": "会员日到店有礼。"},
            "account",
        )
        c.templates.approve(template.id, "operator")
        numbers = [f"139{n:04d}{5000 + n:04d}" for n in range(RECIPIENTS)]
        send = c.bus.handle(SendMassSend(account, template.id, Numbers(numbers), None, "site",
                                         "a")).send  # fmt: skip
        env = {**os.environ, "SMS_DATABASE_URL": pg_url, "SMS_SIMULATION": "1",
               "SMS_OPERATOR_TOKEN": "x", "SMS_WEBHOOK_ALLOW_PRIVATE": "1",
               "SMS_WEBHOOK_LEASE_SECONDS": "2"}  # fmt: skip
        command = [sys.executable, "-m", "smsplat.api.cli", "worker"]
        kills = 0
        for target in (20, 90, 170):  # deliveries the receiver has taken when it is killed
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while len(receiver.verified) < target:
                assert time.monotonic() < deadline, "no progress"
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        # 2 deliveries a message (sending, then success): the kills came before the end
        assert len({i for i, _ in receiver.verified}) < 2 * RECIPIENTS, "killed too late"
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        try:
            expected = {message_id(send.id, i) for i in range(RECIPIENTS)}
            deadline = time.monotonic() + 120
            while not (_all_delivered(c, receiver) and _told_sending(receiver) == expected):
                assert time.monotonic() < deadline, "a delivery never reached the receiver"
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        assert receiver.unverified == 0
        ids = [i for i, _ in receiver.verified]
        twice = len(ids) - len(set(ids))
        print(f"\nwebhooks: {len(set(ids))} deliveries, {twice} received twice after {kills} "
              f"kills (at least once; receivers dedupe on webhook-id)")  # fmt: skip
        assert _told_sending(receiver) == expected
        # only what was posted but not yet recorded at a kill goes twice: at most one lot of
        # the dispatcher's parallel posts
        assert twice <= PARALLEL * kills
    finally:
        receiver.server.shutdown()
        c.close()

"""S5: every message reaches the carrier once, without the carrier's help.

The simulated carrier counts every hand-over and deduplicates nothing, as a real carrier does
(a second `submit_sm` is a second SMS to a person). A batch is claimed by one worker at a time:
the background worker, a second worker, or the clock's stepping in the request thread.
(The trial found scheduled messages handed over twice when the clock moved, 8 of 8 checked.)
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from uuid import UUID

from fastapi.testclient import TestClient
from smsplat.adapters.log_follower import LogFollower
from smsplat.adapters.tracking import SqlTracking
from smsplat.api.app import create_app
from smsplat.commands.command_types import SendMassSend
from smsplat.commands.recipient_sources import Numbers
from smsplat.commands.send_worker import SendWorker
from smsplat.domain.sending import message_id
from smsplat.infra.bootstrap import Container
from smsplat.projections.ledger_audit import audit_ledger

from tests.integration.history import funded_account
from tests.support import OPERATOR_TOKEN
from tests.timing import wait_until


def _approved(c: Container, account: UUID) -> UUID:
    template = c.templates.submit(
        account,
        {"type": "mass", "kind": "notice", "signature": "花店", "content": "会员日到店有礼。"},
        "account",
    )
    c.templates.approve(template.id, "operator")
    return template.id


def _second_worker(c: Container, stop: threading.Event) -> None:
    """Another worker (another process's worth): its own follower of the quota log."""
    worker = SendWorker(c.quota, c.lifecycle, c.worker.alerts, c.carrier, c.clock, c.limits,
                        SqlTracking(c.db))  # fmt: skip
    follower = LogFollower(c.quota, worker, batch_size=20)
    while not stop.is_set():
        if not follower.run_once():
            stop.wait(0.01)


def test_S5_two_workers_and_the_moving_clock_hand_each_message_over_once(
    container: Container,
) -> None:
    c = container
    account = funded_account(c, size=10_000)
    template = _approved(c, account)
    stop = threading.Event()
    second = threading.Thread(target=_second_worker, args=(c, stop), daemon=True)
    expected: list[str] = []
    with TestClient(create_app(c)) as http:  # the background worker runs too
        second.start()
        headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        try:
            for n in range(8):
                numbers = [f"1392{n:03d}{i:04d}" for i in range(1000, 1250)]
                # every other send is scheduled a minute ahead
                scheduled = c.clock.now() + timedelta(minutes=1) if n % 2 else None
                accepted = c.bus.handle(
                    SendMassSend(
                        account,
                        template,
                        Numbers(numbers),
                        None,
                        "site",
                        "account",
                        scheduled_at=scheduled,
                    )
                )
                expected += [message_id(accepted.send.id, i) for i in range(len(numbers))]
                r = http.post("/v1/sim/clock", json={"advance_seconds": 61}, headers=headers)
                assert r.status_code == 200, r.text
            assert wait_until(lambda: set(c.carrier.handovers_by_message()) >= set(expected))
        finally:
            stop.set()
            second.join(60)
        counts = Counter({m: n for m, n in c.carrier.handovers_by_message().items()
                          if not m.startswith("alert.")})  # fmt: skip
        assert set(counts) == set(expected)
        twice = [m for m, n in counts.items() if n != 1]
        assert not twice, f"{len(twice)} of {len(counts)} messages handed over more than once"
        c.read_models.catch_up()
        report = audit_ledger(c.quota, c.ledger)
        assert report.ok, report.problems

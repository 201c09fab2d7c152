"""Read models: exactly once, rebuildable, and resumable after a crash (Q12)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from eventsourcing.utils import get_topic
from smsplat.adapters.clock import SimulatedClock
from smsplat.adapters.log_follower import LogFollower
from smsplat.adapters.sql import PostgresDatabase
from smsplat.commands.command_types import (
    CancelSend,
    RecordReceipts,
    RescheduleSend,
    SendMassSend,
    SendMessage,
)
from smsplat.commands.ports import Notified
from smsplat.commands.receipts import read_receipt
from smsplat.commands.recipient_sources import Numbers
from smsplat.domain.quota import QuotaPool
from smsplat.domain.sending import message_id
from smsplat.infra.bootstrap import Container
from smsplat.projections.alerts import AlertsReadModel
from smsplat.projections.ledger_audit import audit_ledger
from smsplat.projections.quota_ledger import QuotaLedgerReadModel
from smsplat.projections.read_model_set import ReadModelSet
from smsplat.projections.templates import TemplateListReadModel

from tests.conftest import make_container, running_container
from tests.integration.history import (
    dump_read_models,
    funded_account,
    random_history,
    random_template_history,
)
from tests.integration.test_sending_flow import MASS, approved_template

# Random histories charge the pools straight (tests/integration/history.py), with no sends.
pytestmark = pytest.mark.pool_only_ledger


def _entry_events(c: Container) -> int:
    notifications = c.quota.recorder.select_notifications(start=None, limit=10**7)
    entry_topics = {
        get_topic(cls)
        for cls in (
            QuotaPool.PackagePurchased,
            QuotaPool.UnitsLocked,
            QuotaPool.LockReleased,
            QuotaPool.UnitsCharged,
            QuotaPool.UnitsRefunded,
        )
    }
    return sum(1 for n in notifications if n.topic in entry_topics)


def assert_exactly_once_and_rebuildable(c: Container, pool_only: bool = False) -> None:
    """One ledger row per entry event, the audit passes, and a rebuild changes nothing.
    ``pool_only``: the history charged the pools straight, with no sends behind the entries."""
    live = dump_read_models(c)
    assert len(live["quota_ledger"]) == _entry_events(c)
    report = audit_ledger(c.quota, c.ledger, c.send_views, pool_only=pool_only)
    assert report.ok, report.problems
    assert report.entries == len(live["quota_ledger"])
    c.read_models.rebuild()
    assert dump_read_models(c) == live


def test_Q12_rebuilt_read_models_equal_live_ones(any_container: Container) -> None:
    """Q12: after a long random history, a rebuild from the events equals the live read models."""
    c = any_container
    clock = c.clock
    assert isinstance(clock, SimulatedClock)
    c.loops.start(c.loops.projections)
    random_history(c, clock, commands=800, seed=7)
    assert c.read_models.wait_until_current(30)
    assert _entry_events(c) > 300
    assert_exactly_once_and_rebuildable(c, pool_only=True)  # random_history: pool charges


def test_T7_rebuilt_template_list_equals_the_live_one(any_container: Container) -> None:
    """T5, T7: after random submissions, reviews, edits and deletions, the template list and
    review queue rebuilt from the events equal the live ones; deleted templates are absent."""
    c = any_container
    assert isinstance(c.clock, SimulatedClock)
    c.loops.start(c.loops.projections)
    random_template_history(c, c.clock, commands=300, seed=13)
    assert c.read_models.wait_until_current(30)
    live = dump_read_models(c)["template_list"]
    assert len(live) > 20
    c.read_models.rebuild()
    assert dump_read_models(c)["template_list"] == live
    deleted = {
        str(n.originator_id)
        for n in c.templates.recorder.select_notifications(start=None, limit=10**6)
        if n.topic.endswith("Template.Deleted")
    }
    assert deleted and not deleted & {row[0] for row in live}


def test_Q12_competing_followers_apply_each_event_once(container: Container, pg_url: str) -> None:
    """Two followers on the same read models (two processes' worth) never double count."""
    c = container
    assert isinstance(c.clock, SimulatedClock)
    random_history(c, c.clock, commands=400, seed=11)
    dbs = [PostgresDatabase(pg_url) for _ in range(2)]
    followers = [
        LogFollower(
            c.quota,
            ReadModelSet("quota", [QuotaLedgerReadModel(), AlertsReadModel()], db),
            batch_size=7,
        )
        for db in dbs
    ]
    threads = [threading.Thread(target=f.catch_up) for f in followers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for db in dbs:
        db.close()
    c.read_models.of("accounts").catch_up()  # the accounts' own read model: not raced here
    assert_exactly_once_and_rebuildable(c, pool_only=True)  # random_history: pool charges


@pytest.mark.slow
def test_Q12_projector_killed_between_events_resumes_exactly(pg_url: str) -> None:
    """Q12: `smsplat projections run` killed with SIGKILL mid-stream, several times, then
    restarted: every entry is in the ledger exactly once and the balances match the events."""
    clock = SimulatedClock()
    c = make_container(pg_url, clock)
    try:
        random_history(c, clock, commands=1500, seed=3)
        env = {
            **os.environ,
            "SMS_DATABASE_URL": pg_url,
            "SMS_OPERATOR_TOKEN": "x",
            "SMS_PROJECTION_BATCH_SIZE": "2",
            "SMS_PROJECTION_POLL_SECONDS": "0.05",
        }
        command = [sys.executable, "-m", "smsplat.api.cli", "projections", "run"]
        follower = c.read_models.of("quota")
        models = c.read_models.handler_of(follower)
        head = follower.head()
        targets = sorted(random.Random(5).sample(range(50, head - 50), 4))
        for target in targets:
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while models.position() < target and time.monotonic() < deadline:
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            reached = models.position()
            assert target <= reached < head, "the kill did not land mid-stream"
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        try:
            assert follower.wait_until(head, timeout=120)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        assert_exactly_once_and_rebuildable(c, pool_only=True)  # pool charges
    finally:
        c.close()


def test_Q12_a_batch_read_before_a_rebuild_does_not_skip_events(any_container: Container) -> None:
    """Q12: a follower that read a batch, then lost the race to a rebuild (which reset the
    tracking row), must not mark the events before its batch as applied: they are re-read."""
    c = any_container
    assert isinstance(c.clock, SimulatedClock)
    random_template_history(c, c.clock, commands=120, seed=21)
    c.read_models.catch_up()
    late = ReadModelSet("templates", [TemplateListReadModel()], c.db)
    random_template_history(c, c.clock, commands=10, seed=22)  # new events after the read
    start = late.position()
    stored = c.templates.recorder.select_notifications(start, 500, inclusive_of_start=False)
    batch = [Notified(n.id, c.templates.mapper.to_domain_event(n)) for n in stored]
    assert start > 0 and batch
    rebuild = c.read_models.of("templates")
    c.read_models.handler_of(rebuild).reset()  # the rebuild's first transaction...
    late.process(start, batch)  # ...then the late follower's (it read before the reset)
    rebuild.catch_up()  # ...then the rebuild's replay
    after_race = dump_read_models(c)["template_list"]
    c.read_models.rebuild()  # an undisturbed rebuild
    assert after_race == dump_read_models(c)["template_list"]


def _every_kind_of_send(c: Container) -> None:
    """Sends of every course (tests/integration/test_sending_flow.py has them one by one):
    delivered, failed, refused at hand-over, silent until unknown, a code, a scheduled send
    moved, one cancelled, a marketing send skipping a number opted out while it waited, and a
    receipt twice and one for a message never given."""
    clock = c.clock
    assert isinstance(clock, SimulatedClock)
    account = funded_account(c, size=1000)
    notice = approved_template(c, account, MASS)
    marketing = approved_template(c, account, {**MASS, "kind": "marketing"})
    code = approved_template(
        c, account, {"type": "business", "scenario": "register", "signature": "花店"}
    )
    numbers = [f"1381234{n:04d}" for n in range(5, 45)]
    numbers += ["13800000001", "13800000002", "13800000003"]  # fail, silent, refused
    mass = c.bus.handle(SendMassSend(account, notice, Numbers(numbers), None, "site", "a"))
    for n in range(3):
        c.bus.handle(SendMessage(account, code, f"1391234{n:04d}", {"code": "1234"}, None, "a"))
    soon = clock.now() + timedelta(hours=2)
    moved = c.bus.handle(SendMassSend(account, notice, Numbers(numbers[:4]), None, None, "a",
                                      scheduled_at=soon))  # fmt: skip
    c.bus.handle(RescheduleSend(moved.send.id, soon + timedelta(hours=1), "a"))
    alone = approved_template(c, account, {**MASS, "content": "只此一次，欢迎光临。"})
    dropped = c.bus.handle(SendMassSend(account, alone, Numbers(numbers[4:6]), None, "site",
                                        "a", scheduled_at=soon))  # its own daily row  # fmt: skip
    c.bus.handle(CancelSend(dropped.send.id, "a"))
    waiting = c.bus.handle(SendMassSend(account, marketing, Numbers(numbers[10:14]), None,
                                        "site", "a", scheduled_at=soon))  # fmt: skip
    c.audience.opt_out(account, numbers[11], "reply", "TD")
    c.due_work.run()
    clock.advance(10)
    c.due_work.run()
    first = message_id(mass.send.id, 0)
    receipts = [{"message_id": first, "status": "delivered"},
                {"message_id": message_id(mass.send.id, 999), "status": "failed"}]  # fmt: skip
    c.bus.handle(RecordReceipts([read_receipt(r) for r in receipts]))
    clock.advance(4 * 3600)
    c.due_work.run()
    clock.advance(10)
    c.due_work.run()
    assert c.quota.send(waiting.send.id).message_status(1).value == "failed"
    clock.advance(73 * 3600)
    c.due_work.run()  # Q8: the silent ones unknown
    assert c.quota.send(mass.send.id).counts()["unknown"] == 1


def test_Q12_read_models_fed_an_event_at_a_time_equal_those_fed_whole_batches(
    store_url: str, clock: SimulatedClock
) -> None:
    """Q12: the sends read model reads a batch's rows at once and moves them in memory
    (projections/send_rows.py), the ledger a pool's balance once a batch: a history applied
    one event per batch and rebuilt in batches of 10,000 gives the same rows, every count
    and figure included."""
    with running_container(store_url, clock, projection_batch_size=1) as c:
        _every_kind_of_send(c)
        c.read_models.catch_up()
        one_by_one = dump_read_models(c)
        assert one_by_one["messages"] and one_by_one["receipt_latency"]
        statuses = {row[5] for row in one_by_one["messages"]}
        assert statuses == {"success", "failed", "unknown"}
    with running_container(store_url, clock, projection_batch_size=10_000) as c:
        c.read_models.rebuild()
        assert dump_read_models(c) == one_by_one
        assert audit_ledger(c.quota, c.ledger).ok

"""Waiting sends against the real stores: a restart loses nothing (S6), a cancel racing the
send's own time has exactly one outcome (S7, Q11), and every read model a waiting send touches
rebuilds to what was live."""

from __future__ import annotations

import threading
from datetime import timedelta
from uuid import UUID

from smsplat.adapters.clock import SimulatedClock
from smsplat.commands.command_types import CancelSend, RescheduleSend, SendMassSend
from smsplat.commands.recipient_sources import Audience, Numbers
from smsplat.domain.errors import DomainError
from smsplat.domain.sending import SendStatus
from smsplat.infra.bootstrap import Container
from smsplat.projections.ledger_audit import audit_ledger

from tests.conftest import START, make_container
from tests.integration.history import dump_read_models, funded_account
from tests.integration.test_sending_flow import MASS, approved_template

MARKETING = {**MASS, "kind": "marketing"}
NUMBERS = [f"1381234{n:04d}" for n in range(5, 25)]


def _dump(c: Container) -> dict[str, list[tuple[object, ...]]]:
    tables = {
        "sends": "SELECT * FROM sends ORDER BY send_id",
        "messages": "SELECT * FROM messages ORDER BY message_id",
        "customers": "SELECT * FROM customers ORDER BY account_id, product, phone, condition",
        "opt_outs": "SELECT * FROM opt_outs ORDER BY account_id, phone",
    }
    with c.db.reading() as tx:
        rows = {name: tx.execute(sql) for name, sql in tables.items()}
    return {**dump_read_models(c), **rows}


def test_S6_a_scheduled_send_survives_a_restart_and_goes_out_at_its_time(pg_url: str) -> None:
    first = make_container(pg_url, SimulatedClock(START))
    try:
        account = funded_account(first)
        template = approved_template(first, account, MASS)
        accepted = first.bus.handle(
            SendMassSend(
                account,
                template,
                Numbers(NUMBERS),
                None,
                "site",
                "account",
                scheduled_at=START + timedelta(hours=2),
            )
        )
        send_id = accepted.send.id
        first.due_work.run()
        assert first.carrier.handovers == 0
    finally:
        first.close()  # the process ends while the send waits

    later = SimulatedClock(START + timedelta(hours=2, seconds=1))
    second = make_container(pg_url, later)
    try:
        assert second.quota.send(send_id).status is SendStatus.SCHEDULED
        second.due_work.run()  # the restarted worker finds it due from the read model
        send = second.quota.send(send_id)
        assert send.status in (SendStatus.SUBMITTED, SendStatus.COMPLETED)
        assert second.carrier.handovers == len(NUMBERS)
        balance = second.quota.balance(account)
        assert (balance.locked, balance.charged_total) == (0, len(NUMBERS))
        second.read_models.catch_up()
        assert audit_ledger(second.quota, second.ledger).ok
    finally:
        second.close()


def test_S7_Q11_a_cancel_racing_the_send_at_its_time_has_one_outcome(
    any_container: Container,
) -> None:
    c = any_container
    clock = c.clock
    assert isinstance(clock, SimulatedClock)
    account = funded_account(c)
    template = approved_template(c, account, MASS)
    outcomes: list[str] = []
    for round_ in range(6):
        accepted = c.bus.handle(
            SendMassSend(
                account,
                template,
                Numbers(NUMBERS[:3]),
                None,
                "site",
                "account",
                scheduled_at=clock.now() + timedelta(minutes=10),
            )
        )
        c.read_models.catch_up()
        clock.advance(10 * 60)
        gate = threading.Barrier(2)

        def cancel(send_id: UUID = accepted.send.id, gate: threading.Barrier = gate) -> None:
            gate.wait()
            try:
                c.bus.handle(CancelSend(send_id, "account"))
            except DomainError as refused:
                assert refused.code == "not_cancellable"

        def submit(gate: threading.Barrier = gate) -> None:
            gate.wait()
            c.scheduler.run_once()

        threads = [threading.Thread(target=cancel), threading.Thread(target=submit)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        status = c.quota.send(accepted.send.id).status
        assert status in (SendStatus.CANCELLED, SendStatus.SUBMITTING), round_
        outcomes.append(status.value)
        c.due_work.run()
    balance = c.quota.balance(account)
    sent = 3 * outcomes.count("submitting")
    assert (balance.locked, balance.charged_total, balance.available) == (0, sent, 1000 - sent)
    c.read_models.catch_up()
    assert audit_ledger(c.quota, c.ledger).ok


def test_Q12_waiting_sends_audiences_and_opt_outs_rebuild_to_what_was_live(
    any_container: Container,
) -> None:
    c = any_container
    clock = c.clock
    assert isinstance(clock, SimulatedClock)
    account = funded_account(c)
    notice = approved_template(c, account, MASS)
    marketing = approved_template(c, account, MARKETING)
    for i, number in enumerate(NUMBERS[:8]):
        condition = ("site_member", "game_player", "miniapp_booking")[i % 3]
        c.audience.sync_customer(account, condition, number, "site", f"客户{i}", "account")
    c.audience.opt_out(account, NUMBERS[1], "reply", "TD")
    soon = clock.now() + timedelta(hours=2)
    scheduled = c.bus.handle(SendMassSend(account, notice, Numbers(NUMBERS[:4]), None, "site",
                                          "a", scheduled_at=soon))  # fmt: skip
    cancelled = c.bus.handle(SendMassSend(account, notice, Numbers(NUMBERS[4:6]), None, None,
                                          "a", scheduled_at=soon))  # fmt: skip
    c.bus.handle(CancelSend(cancelled.send.id, "a"))
    c.bus.handle(RescheduleSend(scheduled.send.id, soon + timedelta(hours=1), "a"))
    members = Audience({"conditions": ["site_member", "game_player"]})
    c.bus.handle(SendMassSend(account, marketing, members, None, "site", "a"))
    waiting = c.bus.handle(SendMassSend(account, marketing, Numbers(NUMBERS[10:14]), None,
                                        "site", "a", scheduled_at=soon))  # fmt: skip
    c.audience.opt_out(account, NUMBERS[11], "reply", "R")  # opts out while it waits
    c.due_work.run()
    clock.advance(30 * 60)
    c.due_work.run()
    clock.advance(3 * 3600)
    c.due_work.run()
    assert c.quota.send(waiting.send.id).message_status(1).value == "failed"
    c.read_models.catch_up()
    live = _dump(c)
    assert live["sends"] and live["customers"] and live["opt_outs"]
    c.read_models.rebuild()
    assert _dump(c) == live
    assert audit_ledger(c.quota, c.ledger).ok

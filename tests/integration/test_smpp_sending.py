"""A send through the platform to a real SMPP server: ``SMS_CARRIERS`` wins over the simulated
carrier, the send worker hands the messages over by SMPP, receipts come back through the
same guarded settlement as ``POST /v1/carrier/receipts``, failures are refunded, and the
ledger verifies (every test database is verified when it is dropped)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from smsplat.adapters.clock import SimulatedClock
from smsplat.api.app import create_app
from smsplat.commands.command_types import SendMassSend
from smsplat.commands.recipient_sources import Numbers
from smsplat.infra.bootstrap import Container

from tests.conftest import START, make_container
from tests.integration.history import funded_account
from tests.integration.test_sending_flow import MASS, approved_template
from tests.smsc_server import running_smsc
from tests.timing import wait_until

pytestmark = pytest.mark.postgres


def _metrics(c: Container) -> str:
    """What ``/metrics`` shows (outside ``with``, the app's lifespan never runs: it starts
    no loops and closes nothing)."""
    shown: str = TestClient(create_app(c, run_projections=False)).get("/metrics").text
    return shown


def test_S5_S10_Q7_a_mass_send_goes_out_over_smpp_and_settles_with_its_receipts(
    pg_url: str,
) -> None:
    with running_smsc() as smsc:
        carriers = json.dumps([{"name": "cmcc-1", "url": smsc.url(window=16)}])
        c = make_container(pg_url, SimulatedClock(START), carriers=carriers, simulation=True)
        try:
            c.loops.start(c.loops.projections, c.loops.sending)
            account = funded_account(c, size=1000)
            template = approved_template(c, account, MASS)
            numbers = [f"1381234{n:04d}" for n in range(10, 40)]  # delivered
            numbers += ["13800000001", "13800000002", "13800000003"]  # failed, silent, refused
            send = c.bus.handle(
                SendMassSend(account, template, Numbers(numbers), None, "site", "a")
            ).send

            def settled() -> bool:
                counts: dict[str, int] = c.quota.send(send.id).counts()
                return counts["success"] == 30 and counts["failed"] == 2

            assert wait_until(settled, timeout=60), c.quota.send(send.id).counts()
            balance = c.quota.balance(account)
            assert (balance.charged_total, balance.refunded_total) == (33, 2)  # Q7
            assert len(smsc.messages()) == 32  # 0003 refused at submission
            assert c.carrier.handovers == 0  # the simulated carrier took nothing
            health = c.health.report().checks["carrier"]
            assert health["carriers"][0]["state"] == "bound"
            assert health["carriers"][0]["submitted"] == 32
            metrics = _metrics(c)
            assert 'smsplat_carrier_bound{carrier="cmcc-1"} 1.0' in metrics
            assert 'smsplat_carrier_refused_total{carrier="cmcc-1"} 1.0' in metrics
        finally:
            c.close()


def test_a_reply_td_over_smpp_opts_the_number_out_of_the_marketing_it_answers(
    pg_url: str,
) -> None:
    with running_smsc() as smsc:
        carriers = json.dumps([{"name": "cmcc-1", "url": smsc.url()}])
        clock = SimulatedClock(START)
        c = make_container(pg_url, clock, carriers=carriers, simulation=True)
        try:
            c.loops.start(c.loops.projections, c.loops.sending)
            account = funded_account(c, size=1000)
            template = approved_template(c, account, {**MASS, "kind": "marketing"})
            numbers = ["13812340010", "13812340011"]
            send = c.bus.handle(
                SendMassSend(account, template, Numbers(numbers), None, "site", "a")
            ).send
            assert c.stepper is not None and send.review_due_at is not None
            c.stepper.move_to(send.review_due_at)  # the provider passes it (S8)
            assert wait_until(lambda: len(smsc.messages()) == 2, timeout=60)
            assert wait_until(lambda: c.quota.send(send.id).counts()["success"] == 2, timeout=60)
            assert smsc.reply("8613812340010", "1069", "TD") == 1
            assert wait_until(lambda: c.audience.is_opted_out(account, "13812340010"), timeout=60)
            assert not c.audience.is_opted_out(account, "13812340011")
        finally:
            c.close()


def test_a_message_goes_out_from_the_accounts_extension_and_a_reply_to_it_is_the_accounts(
    pg_url: str,
) -> None:
    with running_smsc() as smsc:
        carriers = json.dumps([{"name": "cmcc-1", "url": smsc.url()}])  # source_addr 1069
        c = make_container(pg_url, SimulatedClock(START), carriers=carriers, simulation=True)
        try:
            c.loops.start(c.loops.projections, c.loops.sending)
            other = funded_account(c, size=1000)  # takes the first code
            account = funded_account(c, size=1000)
            extension = c.accounts.extension_of(account)
            assert (c.accounts.extension_of(other), extension) == ("0001", "0002")
            template = approved_template(c, account, MASS)
            c.bus.handle(SendMassSend(account, template, Numbers(["13812340020"]), None,
                                      "site", "a"))  # fmt: skip
            assert wait_until(lambda: len(smsc.messages()) == 1, timeout=60)
            assert smsc.messages()[0]["source"] == "10690002"
            # a number this account never marketed to replies TD to the account's number
            assert smsc.reply("8613812340099", "10690002", "TD") == 1
            assert wait_until(lambda: c.audience.is_opted_out(account, "13812340099"), timeout=60)
            assert not c.audience.is_opted_out(other, "13812340099")
        finally:
            c.close()


def test_one_of_two_carriers_stops_mid_send_every_message_is_handed_over_and_health_names_it(
    pg_url: str,
) -> None:
    with running_smsc() as dying, running_smsc() as standing:
        dying.configure(dieAfterSubmits=40)  # then it refuses every bind
        carriers = json.dumps([
            {"name": "cmcc-main", "url": dying.url(window=8), "networks": ["cmcc"],
             "priority": 10},
            {"name": "cmcc-backup", "url": standing.url(window=8), "networks": ["cmcc"],
             "priority": 1},
        ])  # fmt: skip
        c = make_container(pg_url, SimulatedClock(START), carriers=carriers, simulation=True)
        try:
            c.loops.start(c.loops.projections, c.loops.sending)
            account = funded_account(c, size=1000)
            template = approved_template(c, account, MASS)
            numbers = [f"1381234{n:04d}" for n in range(100, 400)]  # 300 China Mobile numbers
            send = c.bus.handle(
                SendMassSend(account, template, Numbers(numbers), None, "site", "a")
            ).send
            assert wait_until(lambda: c.quota.send(send.id).counts()["pending"] == 0, timeout=120)
            reached = {m["destination"] for m in dying.messages() + standing.messages()}
            assert reached == {f"86{p}" for p in numbers}
            carrier = c.health.report().checks["carrier"]
            named = {each["name"]: each for each in carrier["carriers"]}
            assert named["cmcc-backup"]["state"] == "bound"
            # the dead one: down (its line lost) or refused (it refuses binds since)
            assert named["cmcc-main"]["state"] in ("down", "refused")
            assert named["cmcc-main"]["last_error"]
        finally:
            c.close()

"""The ledger can never be left failing its audit, whatever the carrier does (Q5–Q12, S5–S10).

A hypothesis state machine drives the real services on a fresh SQLite store, on the simulated
clock: sends in every state (going out now, scheduled, awaiting the provider's review,
business messages, cancelled, rescheduled), then random receipts (for real messages in any
state, duplicated, contradictory, for messages of other sends, made-up ids, malformed),
replies (opt-outs with and without an account), hand-overs and clock moves of any size
(stepped through, so reviews, schedules, receipts and the 72-hour expiry all happen on the
way). After every step the per-message ledger verification passes and the read models agree
with the events.
"""

from __future__ import annotations

import tempfile
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from smsplat.adapters.clock import SimulatedClock
from smsplat.commands.command_types import (
    CancelSend,
    RecordReceipts,
    RecordReplies,
    RescheduleSend,
    SendMassSend,
    SendMessage,
)
from smsplat.commands.receipts import read_receipt
from smsplat.commands.recipient_sources import Numbers
from smsplat.domain.errors import DomainError
from smsplat.domain.sending import message_id
from smsplat.infra.bootstrap import Container
from smsplat.projections.ledger_audit import audit_ledger

from tests.conftest import START, make_container

# ordinary numbers, and the simulated carrier's: 0001 fails, 0002 never answers, 0003 refused
ODD_ONES = ["13900000001", "13900000002", "13900000003"]
NUMBERS = [f"1391234{n:04d}" for n in range(10, 16)] + ODD_ONES
STATUSES = st.sampled_from(["delivered", "failed", "bounced"])
JUNK_IDS = ["alert.not-real", "nope", f"{uuid4()}.0", None, 17]
CLOCK_MOVES = [0, 1, 3, 5, 60, 1800, 3600, 6 * 3600, 86_400, 72 * 3600]


class CarrierChaosMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.clock = SimulatedClock(START)
        self.c: Container = make_container(
            f"sqlite:///{Path(self.dir.name) / 'chaos.db'}", self.clock
        )
        self.sends: list[UUID] = []

    @initialize()
    def open_account(self) -> None:
        c = self.c
        new = c.accounts.create_account("chaos", "13800138000", "operator")
        c.accounts.activate_product(new.account_id, "site", "operator")
        self.account: UUID = new.account_id
        c.quota.purchase(self.account, 10_000, "p1", "operator")
        self.templates = {
            kind: self._approved(
                {"type": "mass", "kind": kind, "signature": "花店", "content": "会员日到店有礼。"}
            )
            for kind in ("notice", "marketing")
        }
        self.templates["business"] = self._approved(
            {"type": "business", "scenario": "register", "signature": "花店"}
        )

    def _approved(self, fields: dict[str, object]) -> UUID:
        template = self.c.templates.submit(self.account, fields, "account")
        self.c.templates.approve(template.id, "operator")
        return template.id

    # -- sends in every state ------------------------------------------------------------

    @rule(
        kind=st.sampled_from(["notice", "marketing"]),
        numbers=st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=6, unique=True),
        hours_ahead=st.none() | st.integers(2, 48),
    )
    def mass_send(self, kind: str, numbers: list[str], hours_ahead: int | None) -> None:
        when = None if hours_ahead is None else self.clock.now() + timedelta(hours=hours_ahead)
        try:
            accepted = self.c.bus.handle(
                SendMassSend(
                    self.account,
                    self.templates[kind],
                    Numbers(numbers),
                    None,
                    "site",
                    "account",
                    scheduled_at=when,
                )
            )
        except DomainError:
            return  # refused whole (every number opted out): nothing stored
        self.sends.append(accepted.send.id)

    @rule(number=st.sampled_from(NUMBERS))
    def business_message(self, number: str) -> None:
        accepted = self.c.bus.handle(SendMessage(
            self.account, self.templates["business"], number, {"code": "123456"}, "site",
            "account",
        ))  # fmt: skip
        self.sends.append(accepted.send.id)

    @precondition(lambda self: bool(self.sends))
    @rule(pick=st.integers(0, 10_000))
    def cancel(self, pick: int) -> None:
        with suppress(DomainError):  # not waiting any more: 409 not_cancellable
            self.c.bus.handle(CancelSend(self.sends[pick % len(self.sends)], "account"))

    @precondition(lambda self: bool(self.sends))
    @rule(pick=st.integers(0, 10_000), hours=st.integers(-2, 30))
    def reschedule(self, pick: int, hours: int) -> None:
        when = self.clock.now() + timedelta(hours=hours)
        with suppress(DomainError):  # too late, not scheduled, in the past
            self.c.bus.handle(RescheduleSend(self.sends[pick % len(self.sends)], when, "account"))

    # -- what the carrier and recipients say ---------------------------------------------

    @precondition(lambda self: bool(self.sends))
    @rule(
        picks=st.lists(
            st.tuples(
                st.integers(0, 10_000),
                st.integers(-1, 7),
                st.sampled_from(["delivered", "failed", "bounced"]),
            ),
            min_size=1,
            max_size=12,
        ),
        junk=st.lists(
            st.sampled_from(["alert.not-real", "nope", f"{uuid4()}.0", None, 17]), max_size=2
        ),
    )
    def receipts(self, picks: list[tuple[int, int, str]], junk: list[object]) -> None:
        items: list[object] = [
            {"message_id": message_id(self.sends[p % len(self.sends)], i), "status": status}
            for p, i, status in picks
            if i >= 0
        ]
        items += [{"message_id": j, "status": "failed"} for j in junk]
        outcome = self.c.bus.handle(RecordReceipts([read_receipt(i) for i in items]))
        assert len(outcome.answers) == len(items)

    @rule(
        number=st.sampled_from(NUMBERS),
        text=st.sampled_from(["TD", "R", "好的"]),
        named=st.booleans(),
    )
    def reply(self, number: str, text: str, named: bool) -> None:
        reply = {"phone": number, "text": text, "at": self.clock.now().isoformat()}
        if named:
            reply["account_id"] = str(self.account)
        self.c.bus.handle(RecordReplies([reply]))  # catches the sends read model up itself

    # -- time and the worker ---------------------------------------------------------------

    @rule()
    def hand_over(self) -> None:
        self.c.due_work.run()

    @rule(seconds=st.sampled_from(CLOCK_MOVES))
    def move_clock(self, seconds: int) -> None:
        assert self.c.stepper is not None
        self.c.stepper.move_to(self.clock.now() + timedelta(seconds=seconds))

    # -- after every step ----------------------------------------------------------------

    @invariant()
    def the_ledger_verifies_and_the_read_models_agree(self) -> None:
        if not hasattr(self, "account"):
            return
        self.c.read_models.catch_up()
        report = audit_ledger(self.c.quota, self.c.ledger, self.c.send_views)
        assert report.ok, report.problems
        assert self.c.ledger.balance(str(self.account)) == self.c.quota.balance(self.account)

    def teardown(self) -> None:
        self.c.close()
        self.dir.cleanup()


CarrierChaosMachine.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_Q7_Q12_the_ledger_survives_whatever_the_carrier_says = CarrierChaosMachine.TestCase

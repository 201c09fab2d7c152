"""The write side on fakes: the library's in-memory (POPO) event store and fakes of every
port (carrier, recipient limits, audience directory, recipient sheets, clock), wired as
``infra/bootstrap.py`` wires the real ones. No database, no threads: a test runs in
milliseconds and says exactly which behaviour of the services it checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from smsplat.adapters.log_follower import LogFollower
from smsplat.commands.account_notices import SmsNotices
from smsplat.commands.accounts import AccountsApp
from smsplat.commands.alert_handover import AlertHandover
from smsplat.commands.audience import AudienceApp
from smsplat.commands.bus import CommandBus
from smsplat.commands.command_types import (
    ActivateProduct,
    ApproveTemplate,
    BuyPackage,
    CreateAccount,
    SubmitTemplate,
)
from smsplat.commands.handlers import WriteSide, command_bus
from smsplat.commands.ports import (
    AnsweredDelivery,
    DueDelivery,
    NewDelivery,
    OutgoingMessage,
    ReceiverAnswer,
    Submission,
)
from smsplat.commands.quota import QuotaApp
from smsplat.commands.receipts import ReceiptRecorder
from smsplat.commands.recipient_sources import SheetRow
from smsplat.commands.replies import ReplyRecorder
from smsplat.commands.send_acceptance import SendAcceptance
from smsplat.commands.send_lifecycle import SendLifecycle
from smsplat.commands.send_worker import SendWorker
from smsplat.commands.sending import SendingService
from smsplat.commands.templates import TemplatesApp
from smsplat.commands.webhook_dispatch import WebhookDispatcher
from smsplat.commands.webhook_outbox import ReplyOutbox, TemplateOutbox, WebhookOutbox
from smsplat.commands.webhooks import WebhooksApp

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing, a Monday: reviews open


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class FakeCarrier:
    """Takes every message (refusing the numbers in ``refuse``) and remembers each one."""

    refuse: set[str] = field(default_factory=set)
    given: list[OutgoingMessage] = field(default_factory=list)
    batches_per_claim: int = 1
    calls: list[int] = field(default_factory=list)  # how many messages each call gave
    down: bool = False  # takes nothing, as a carrier whose every bind is gone

    def submit(self, messages: Sequence[OutgoingMessage], at: datetime) -> list[Submission]:
        if self.down:
            raise RuntimeError("no carrier took the messages")
        self.given.extend(messages)
        self.calls.append(len(messages))
        return [
            Submission(m.message_id, False, None, "refused")
            if m.phone in self.refuse
            else Submission(m.message_id, True, f"c-{m.message_id}")
            for m in messages
        ]


@dataclass
class FakeLimits:
    """S9 counts that never limit, unless a number is listed in ``over``."""

    over: set[str] = field(default_factory=set)

    def admit(self, category: str, messages: Sequence[tuple[str, str]], at: datetime) -> set[str]:
        return {ident for ident, phone in messages if phone not in self.over}

    def would_fail(self, category: str | None, phones: Sequence[str], at: datetime) -> list[str]:
        return [p for p in phones if p in self.over]


@dataclass
class FakeAudience:
    """Synced customers by (account, condition), and opted-out numbers by account."""

    customers: dict[tuple[str, str], list[tuple[str, str | None]]] = field(default_factory=dict)
    opted: dict[str, set[str]] = field(default_factory=dict)

    def numbers(self, account_id: str, conditions: Sequence[str]) -> list[str]:
        return [p for p, _ in self.named_numbers(account_id, conditions)]

    def named_numbers(
        self, account_id: str, conditions: Sequence[str]
    ) -> list[tuple[str, str | None]]:
        seen: dict[str, str | None] = {}
        for condition in conditions:
            for phone, name in self.customers.get((account_id, condition), []):
                seen.setdefault(phone, name)
        return list(seen.items())

    def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        return set(phones) & self.opted.get(account_id, set())


@dataclass(frozen=True)
class Row:
    row: int
    phone: str
    columns: dict[str, str]


@dataclass
class FakeSheets:
    """An "upload" is the UTF-8 text of one number (and optional name) per line."""

    def read(self, content: bytes) -> Sequence[SheetRow]:
        rows = []
        for n, line in enumerate(content.decode().splitlines(), start=2):
            phone, _, name = line.partition(",")
            rows.append(Row(n, phone, {"姓名": name} if name else {}))
        return rows

    def template(self) -> bytes:
        return b""


class NoRecentMarketing:
    def accounts_that_sent(self, phone: str, since: datetime, until: datetime) -> list[str]:
        return []


class MemorySecrets:
    def __init__(self) -> None:
        self.kept: dict[tuple[UUID, int], str] = {}

    def keep(self, webhook_id: UUID, version: int, secret: str) -> str:
        return self.kept.setdefault((webhook_id, version), secret)

    def signing(self, webhook_id: UUID, versions: Sequence[int]) -> list[str]:
        return [self.kept[(webhook_id, v)] for v in versions if (webhook_id, v) in self.kept]


@dataclass
class Delivery:
    new: NewDelivery
    status: str = "pending"
    attempts: int = 0
    due_at: datetime | None = None
    codes: list[int | None] = field(default_factory=list)


class MemoryOutbox:
    """The outbox's rules on dicts: order per key and endpoint, due times, give-ups."""

    def __init__(self) -> None:
        self.rows: dict[str, Delivery] = {}
        self.tracking: dict[str, int] = {}
        self.failing: dict[UUID, datetime] = {}  # endpoint: since its first failure in a row

    def position(self, name: str) -> int:
        return self.tracking.get(name, 0)

    def enqueue(self, name: str, start: int, end: int, deliveries: Sequence[NewDelivery]) -> bool:
        if self.tracking.get(name, 0) != start:
            return False
        self.tracking[name] = end
        for d in deliveries:
            self.rows.setdefault(d.delivery_id, Delivery(d, due_at=d.due_at))
        return True

    def claim_due(self, now: datetime, wall_now: datetime, limit: int) -> list[DueDelivery]:
        pending = sorted((r for r in self.rows.values() if r.status == "pending"),
                         key=lambda r: r.new.seq)  # fmt: skip
        first: dict[tuple[UUID, str], Delivery] = {}
        for row in pending:
            first.setdefault((row.new.webhook_id, row.new.key), row)
        due = [r for r in first.values() if r.due_at is not None and r.due_at <= now]
        return [
            DueDelivery(r.new.delivery_id, r.new.webhook_id, r.new.account_id,
                        r.new.event_type, r.new.body, r.attempts)
            for r in due[:limit]
        ]  # fmt: skip

    def answered(self, answers: Sequence[AnsweredDelivery]) -> dict[UUID, datetime]:
        for answer in answers:
            row = self.rows[answer.attempt.delivery_id]
            row.attempts += 1
            row.codes.append(answer.attempt.status_code)
            if answer.delivered:
                row.status = "delivered"
            else:
                row.status, row.due_at = (
                    ("pending", answer.retry_at) if answer.retry_at else ("failed", None)
                )
        delivered = {a.attempt.webhook_id for a in answers if a.delivered}
        for webhook in delivered:
            self.failing.pop(webhook, None)
        failing: dict[UUID, datetime] = {}
        for a in sorted(answers, key=lambda a: a.attempt.at):
            webhook = a.attempt.webhook_id
            if webhook not in delivered:
                failing[webhook] = self.failing.setdefault(webhook, a.attempt.at)
        return failing

    def cancel(self, webhook_id: UUID) -> int:
        gone = [r for r in self.rows.values()
                if r.new.webhook_id == webhook_id and r.status == "pending"]  # fmt: skip
        for row in gone:
            row.status = "cancelled"
        return len(gone)

    def next_due_after(self, now: datetime) -> datetime | None:
        due = [r.due_at for r in self.rows.values()
               if r.status == "pending" and r.due_at and r.due_at > now]  # fmt: skip
        return min(due) if due else None

    def retry(self, delivery_id: str, account_id: str | None, now: datetime) -> bool:
        row = self.rows.get(delivery_id)
        if row is None or row.status == "cancelled" or account_id not in (None, row.new.account_id):
            return False
        row.status, row.due_at = "pending", now
        return True

    def replay(self, webhook_id: UUID, since: datetime, now: datetime) -> int:
        again = [r for r in self.rows.values() if r.new.webhook_id == webhook_id
                 and r.new.created_at >= since and r.status != "cancelled"]  # fmt: skip
        for row in again:
            row.status, row.due_at = "pending", now
        return len(again)


@dataclass
class FakeReceivers:
    """Answers every POST with ``answer`` (a status code, or None: a timeout) and keeps it."""

    answer: int | None = 200
    posted: list[tuple[str, str, str, list[str]]] = field(default_factory=list)

    def post(self, url: str, delivery_id: str, body: str, secrets: Sequence[str]) -> ReceiverAnswer:
        self.posted.append((url, delivery_id, body, list(secrets)))
        error = None if self.answer is not None else "timeout"
        return ReceiverAnswer(self.answer, error, 1.0)


class MemoryTracking:
    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    def position(self, name: str) -> int:
        return self.rows.get(name, 0)

    def advance(self, name: str, expected: int, new: int) -> bool:
        if self.rows.get(name, 0) != expected:
            return False
        self.rows[name] = new
        return True


@dataclass
class World:
    clock: FakeClock
    carrier: FakeCarrier
    limits: FakeLimits
    audience_directory: FakeAudience
    accounts: AccountsApp
    quota: QuotaApp
    templates: TemplatesApp
    audience: AudienceApp
    handover: LogFollower  # the send worker, following the quota log
    bus: CommandBus
    webhooks: WebhooksApp
    outbox: MemoryOutbox
    receivers: FakeReceivers
    told: LogFollower  # the webhook outbox, following the quota log
    told_templates: LogFollower  # and the templates log
    told_replies: LogFollower  # and the audience log
    dispatcher: WebhookDispatcher

    def account(self, units: int = 1000, product: str = "site") -> UUID:
        """An account with ``product`` active and a package of ``units`` bought."""
        account = self.bus.handle(CreateAccount("花店", "13800138000", "operator")).account_id
        self.bus.handle(ActivateProduct(account, product, "a"))
        self.bus.handle(BuyPackage(account, units, f"p-{account}", "a"))
        return account

    def template(self, account: UUID, **fields: Any) -> UUID:
        """An approved template (mass notice unless ``fields`` say otherwise)."""
        given = {"type": "mass", "kind": "notice", "scenario": None, "signature": "花店",
                 "content": "会员日到店有礼，欢迎光临。"} | fields  # fmt: skip
        submitted = self.bus.handle(
            SubmitTemplate(account, given["type"], given["kind"], given["scenario"],
                           given["signature"], given["content"], "a")
        )  # fmt: skip
        return self.bus.handle(ApproveTemplate(submitted.id, "operator")).id

    def hand_over_all(self) -> int:
        """What the send worker would do with every event stored so far; returns how many
        messages the carrier now has."""
        self.handover.catch_up()
        return len(self.carrier.given)

    def tell_webhooks(self) -> int:
        """The outbox takes in every event stored so far, and the dispatcher sends what is
        due; returns how many deliveries it attempted."""
        self.told.catch_up()
        self.told_templates.catch_up()
        self.told_replies.catch_up()
        return self.dispatcher.catch_up()


def world() -> World:
    clock = FakeClock()
    carrier, limits, directory = FakeCarrier(), FakeLimits(), FakeAudience()
    accounts = AccountsApp(None, clock)  # env None: the library's in-memory store
    quota = QuotaApp(None, clock, accounts)
    templates = TemplatesApp(None, clock)
    audience = AudienceApp(None, clock)
    lifecycle = SendLifecycle(quota, clock)
    sending = SendingService(
        accounts, templates, quota, lifecycle, limits, directory, SendAcceptance(quota),
        FakeSheets(),
    )  # fmt: skip
    alerts = AlertHandover(quota, clock, timedelta(minutes=1), carrier)
    receipts = ReceiptRecorder(lifecycle, alerts)
    worker = SendWorker(quota, lifecycle, alerts, carrier, clock, limits, MemoryTracking())
    replies = ReplyRecorder(audience, NoRecentMarketing(), accounts.exists)
    webhooks = WebhooksApp(None, clock, MemorySecrets(), allow_http=True)
    outbox, receivers = MemoryOutbox(), FakeReceivers()
    write = WriteSide(accounts, quota, templates, audience, sending, receipts, replies,
                      webhooks, outbox)  # fmt: skip
    handover = LogFollower(quota, worker, batch_size=100, poll_interval=0)
    told = LogFollower(quota, WebhookOutbox(quota, webhooks, outbox), batch_size=100)
    told_templates = LogFollower(templates, TemplateOutbox(templates, webhooks, outbox))
    told_replies = LogFollower(audience, ReplyOutbox(webhooks, outbox))
    notices = SmsNotices(accounts, alerts)
    dispatcher = WebhookDispatcher(webhooks, outbox, receivers, notices, clock, clock,
                                   lambda: 1.0)  # fmt: skip
    return World(clock, carrier, limits, directory, accounts, quota, templates, audience,
                 handover, command_bus(write), webhooks, outbox, receivers, told,
                 told_templates, told_replies, dispatcher)  # fmt: skip

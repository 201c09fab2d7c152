"""Wiring: settings in, a running set of applications, read models and stores out.

The one place that knows which adapter serves which port. ``build()`` is used by the API,
the CLI and the tests alike.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from ..adapters.carrier_router import CarrierRouter
from ..adapters.carrier_sim import SimulatedCarrier
from ..adapters.clock import SimulatedClock, StoredSimulatedTime, SystemClock
from ..adapters.command_log import SqlCommandLog
from ..adapters.excel_recipients import ExcelRecipientSheets
from ..adapters.idempotency import IdempotencyStore
from ..adapters.log_follower import LogFollower
from ..adapters.recipient_window import RecipientWindow
from ..adapters.smpp_carrier import SmppCarrier, SmppEndpoint
from ..adapters.smpp_journal import SmppJournal
from ..adapters.sql import SqlDatabase
from ..adapters.tracking import SqlTracking
from ..adapters.webhook_http import HttpReceivers, refusal
from ..adapters.webhook_outbox import SqlDeliveryOutbox
from ..adapters.webhook_secrets import SqlWebhookSecrets
from ..commands.account_notices import SmsNotices
from ..commands.accounts import AccountsApp
from ..commands.alert_handover import AlertHandover
from ..commands.audience import AudienceApp
from ..commands.bus import CommandBus
from ..commands.clock_stepper import ClockStepper
from ..commands.due_work import DueWork
from ..commands.group_commit import GroupCommitter
from ..commands.handlers import WriteSide, command_bus
from ..commands.ports import Carrier, Clock
from ..commands.quota import QuotaApp
from ..commands.receipts import ReceiptRecorder
from ..commands.replies import ReplyRecorder
from ..commands.scheduler import SendScheduler
from ..commands.send_lifecycle import SendLifecycle
from ..commands.send_worker import SendWorker
from ..commands.sending import SendingService
from ..commands.settlement import SettlementTimer
from ..commands.templates import TemplatesApp
from ..commands.webhook_dispatch import WebhookDispatcher
from ..commands.webhook_outbox import NAME as WEBHOOK_OUTBOX
from ..commands.webhook_outbox import ReplyOutbox, TemplateOutbox, WebhookOutbox
from ..commands.webhooks import WebhooksApp
from ..projections.account_directory import AccountDirectoryReadModel
from ..projections.alerts import AlertQueries, AlertsReadModel
from ..projections.audience import AudienceQueries, CustomersReadModel, OptOutsReadModel
from ..projections.quota_ledger import QuotaLedgerQueries, QuotaLedgerReadModel
from ..projections.read_model_set import ReadModelSet
from ..projections.send_queries import SendQueries
from ..projections.sends import SendsReadModel
from ..projections.templates import TemplateListReadModel, TemplateQueries
from ..projections.webhook_deliveries import DeliveryQueries
from .background import BackgroundLoop, BackgroundLoops
from .current_audience import CurrentAudience, CurrentMarketing
from .event_store import event_store_env, read_store
from .health import HealthCheck
from .housekeeping import Housekeeping
from .read_models import ReadModels
from .schema import HasTables, create_schema, schema_lock
from .settings import Settings

WORKER_IDLE_SECONDS = 0.2  # how often an idle send worker looks for sends from other processes
SETTLEMENT_IDLE_SECONDS = 0.5  # how often receipts and expiries due are looked for
SCHEDULER_IDLE_SECONDS = 1.0  # how often waiting sends are checked for their time
WEBHOOK_IDLE_SECONDS = 0.2  # how often the webhook outbox and dispatcher look for work
KAFKA_IDLE_SECONDS = 0.2  # how often the event publisher looks for new events
HOUSEKEEPING_SECONDS = 600  # how often expired idempotency records and S9 counts are purged


@dataclass
class Container:
    """Everything built, and nothing more: no behaviour lives here."""

    settings: Settings
    clock: Clock
    db: SqlDatabase
    accounts: AccountsApp
    quota: QuotaApp
    templates: TemplatesApp
    audience: AudienceApp
    audience_views: AudienceQueries
    read_models: ReadModels
    ledger: QuotaLedgerQueries
    alerts: AlertQueries
    template_views: TemplateQueries
    idempotency: IdempotencyStore
    operator_token: str
    carrier_token: str | None
    bus: CommandBus  # every write goes through it
    sending: SendingService
    lifecycle: SendLifecycle
    receipts: ReceiptRecorder
    due_work: DueWork
    stepper: ClockStepper | None
    health: HealthCheck
    send_views: SendQueries
    carrier: SimulatedCarrier  # the simulated carrier (its tables exist in every deployment)
    carriers: CarrierRouter | None  # the real ones of SMS_CARRIERS, which win over it
    worker: SendWorker
    handover: LogFollower  # the send worker's follower of the quota log
    settlement: SettlementTimer
    scheduler: SendScheduler
    limits: RecipientWindow
    committer: GroupCommitter
    command_log: SqlCommandLog
    sheets: ExcelRecipientSheets
    loops: BackgroundLoops
    webhooks: WebhooksApp
    webhook_outbox: SqlDeliveryOutbox
    webhook_deliveries: DeliveryQueries
    webhook_follower: LogFollower  # the webhook outbox's follower of the quota log
    dispatcher: WebhookDispatcher
    receivers: HttpReceivers

    def close(self) -> None:
        self.committer.stop()
        self.loops.stop()
        self.dispatcher.close()
        self.receivers.close()
        if self.carriers is not None:
            self.carriers.close()
        for app in (self.accounts, self.quota, self.templates, self.audience, self.webhooks):
            app.close()
        self.db.close()


def build(settings: Settings | None = None, clock: Clock | None = None) -> Container:
    """Every part wired to its adapters; the tables created (``infra/schema.py``)."""
    settings = settings or Settings()
    timeouts = (settings.database_timeout_seconds, settings.statement_timeout_seconds)
    env = event_store_env(settings.database_url, settings.postgres_pool_size, *timeouts)
    env["CREATE_TABLE"] = "no"  # infra/schema.py creates every table, under a lock
    db = read_store(settings.database_url, *timeouts)
    clock = clock or _default_clock(settings, db)
    wakes: dict[str, list[BackgroundLoop]] = {
        "accounts": [], "quota": [], "templates": [], "audience": [], "webhooks": [],
    }  # fmt: skip
    accounts = AccountsApp(env, clock, on_change=lambda: _wake(wakes["accounts"]))
    quota = QuotaApp(env, clock, accounts, on_change=lambda: _wake(wakes["quota"]))
    templates = TemplatesApp(env, clock, on_change=lambda: _wake(wakes["templates"]))
    audience = AudienceApp(env, clock, on_change=lambda: _wake(wakes["audience"]))
    webhook_secrets = SqlWebhookSecrets(db)
    private_ok = settings.webhook_allow_private
    # endpoints change rarely: one pooled connection (the pool grows under a burst), not
    # another POSTGRES_POOL_SIZE of them held open per process
    webhooks_env = {**env, "POSTGRES_POOL_SIZE": "1"} if "POSTGRES_POOL_SIZE" in env else env
    webhooks = WebhooksApp(webhooks_env, clock, webhook_secrets, private_ok,
                           on_change=lambda: _wake(wakes["webhooks"]),
                           url_guard=None if private_ok else refusal)  # fmt: skip
    apps: list[Application[UUID]] = [accounts, quota, templates, audience, webhooks]
    read_model_sets = [
        ReadModelSet("quota", [QuotaLedgerReadModel(), AlertsReadModel(), SendsReadModel()], db),
        ReadModelSet("templates", [TemplateListReadModel()], db),
        ReadModelSet("accounts", [AccountDirectoryReadModel()], db),
        ReadModelSet("audience", [CustomersReadModel(), OptOutsReadModel()], db),
    ]
    by_name = {app.name: app for app in apps}
    followers = [
        LogFollower(by_name[r.application], r, settings.projection_batch_size,
                    settings.projection_poll_seconds)
        for r in read_model_sets
    ]  # fmt: skip
    read_models = ReadModels(followers)
    tracking = SqlTracking(db)
    idempotency = IdempotencyStore(db, settings.idempotency_lease_seconds)
    carrier = SimulatedCarrier(db)
    journal = SmppJournal(db)
    carriers = _real_carriers(settings, journal)
    handing_over: Carrier = carriers or carrier
    due_receipts = carriers.due_receipts if carriers else carrier.due_receipts
    limits = RecipientWindow(db)
    wall_clock = SystemClock()
    lease = timedelta(seconds=settings.handover_lease_seconds)
    lifecycle = SendLifecycle(quota, wall_clock, lease)
    alert_handover = AlertHandover(quota, wall_clock, lease, handing_over)
    worker = SendWorker(quota, lifecycle, alert_handover, handing_over, clock, limits, tracking)
    handover = LogFollower(quota, worker, batch_size=20, poll_interval=WORKER_IDLE_SECONDS)
    command_log = SqlCommandLog(db)
    committer = GroupCommitter(quota)
    audience_views = AudienceQueries(db)
    current_audience = CurrentAudience(read_models.of("audience"), audience_views)
    sheets = ExcelRecipientSheets()
    sending = SendingService(
        accounts, templates, quota, lifecycle, limits, current_audience, committer, sheets
    )
    receipts = ReceiptRecorder(lifecycle, alert_handover)
    send_views = SendQueries(db)
    marketing = CurrentMarketing(read_models.of("quota"), send_views)
    replies = ReplyRecorder(audience, marketing, accounts.exists)
    outbox = SqlDeliveryOutbox(db, timedelta(seconds=settings.webhook_lease_seconds))
    receivers = HttpReceivers(settings.webhook_allow_private, settings.webhook_timeout_seconds)
    outbox_follower = LogFollower(quota, WebhookOutbox(quota, webhooks, outbox), batch_size=200,
                                  poll_interval=WEBHOOK_IDLE_SECONDS)  # fmt: skip
    template_follower = LogFollower(
        templates, TemplateOutbox(templates, webhooks, outbox), batch_size=200,
        poll_interval=WEBHOOK_IDLE_SECONDS,
    )  # fmt: skip
    reply_follower = LogFollower(audience, ReplyOutbox(webhooks, outbox), batch_size=200,
                                 poll_interval=WEBHOOK_IDLE_SECONDS)  # fmt: skip
    notices = SmsNotices(accounts, alert_handover)
    dispatcher = WebhookDispatcher(webhooks, outbox, receivers, notices, clock, wall_clock)
    bus = command_bus(WriteSide(accounts, quota, templates, audience, sending, receipts, replies,
                                webhooks, outbox))  # fmt: skip
    settlement = SettlementTimer(
        receipts,
        lifecycle,
        clock,
        due_receipts,
        send_views.due_for_expiry,
        (journal, replies) if carriers else None,
        accounts.account_for_extension,
    )
    scheduler = SendScheduler(
        quota, lifecycle, templates, current_audience, clock, send_views.due_sends
    )
    due_work = DueWork(scheduler, handover, settlement, read_models,
                       _WebhookWork((outbox_follower, template_follower, reply_follower),
                                    dispatcher))  # fmt: skip
    loops = BackgroundLoops(
        projections=[
            BackgroundLoop(f"follower-{f.app.name}", f.run_once, f.poll_interval) for f in followers
        ],
        sending=[
            BackgroundLoop("send-worker", handover.run_once, WORKER_IDLE_SECONDS),
            BackgroundLoop("settlement", settlement.run_once, SETTLEMENT_IDLE_SECONDS),
            BackgroundLoop("scheduler", scheduler.run_once, SCHEDULER_IDLE_SECONDS),
            BackgroundLoop("webhook-outbox", outbox_follower.run_once, WEBHOOK_IDLE_SECONDS),
            BackgroundLoop("webhook-outbox-templates", template_follower.run_once,
                           WEBHOOK_IDLE_SECONDS),
            BackgroundLoop("webhook-dispatch", dispatcher.run_once, WEBHOOK_IDLE_SECONDS),
            BackgroundLoop("webhook-outbox-replies", reply_follower.run_once,
                           WEBHOOK_IDLE_SECONDS),
        ],
        kafka=_kafka_publishers(settings, apps, tracking),
        upkeep=[
            BackgroundLoop("housekeeping", Housekeeping(idempotency, clock, limits).run_once,
                           HOUSEKEEPING_SECONDS),
            # idempotency records that could not be saved when their command committed
            BackgroundLoop("idempotency-records", idempotency.save_unsaved, 1.0),
        ],
    )  # fmt: skip
    for follower, loop in zip(followers, loops.projections, strict=True):
        wakes[follower.app.name].append(loop)
    wakes["quota"].append(loops.sending[0])  # the send worker follows the quota log
    wakes["quota"].append(loops.sending[3])  # so does the webhook outbox
    wakes["templates"].append(loops.sending[4])  # and its templates part the templates log
    wakes["audience"].append(loops.sending[6])  # and its replies part the audience log
    stores: list[HasTables] = [*read_model_sets, idempotency, carrier, journal, limits, command_log,
                               _Tracked(tracking, worker.name, quota.name)]  # fmt: skip
    stores += [_Tracked(tracking, f"kafka_events:{a.name}", a.name) for a in apps]
    stores += [webhook_secrets, outbox, _Tracked(tracking, WEBHOOK_OUTBOX, quota.name),
               _Tracked(tracking, TemplateOutbox.name, templates.name),
               _Tracked(tracking, ReplyOutbox.name, audience.name)]  # fmt: skip
    create_schema(settings, apps, stores)
    stepper = None
    if isinstance(clock, SimulatedClock):
        timetables = [send_views.next_send_due_after, send_views.next_expiry_after,
                      outbox.next_due_after]  # fmt: skip
        if carriers is None:  # the simulated carrier's receipts come on the simulated clock
            timetables.append(carrier.next_due_after)
        stepper = ClockStepper(clock, due_work.run, timetables)
    return Container(
        settings=settings,
        clock=clock,
        db=db,
        accounts=accounts,
        quota=quota,
        templates=templates,
        audience=audience,
        audience_views=audience_views,
        read_models=read_models,
        ledger=QuotaLedgerQueries(db),
        alerts=AlertQueries(db),
        template_views=TemplateQueries(db),
        idempotency=idempotency,
        operator_token=_operator_token(settings),
        carrier_token=settings.carrier_token,
        bus=bus,
        sending=sending,
        lifecycle=lifecycle,
        receipts=receipts,
        due_work=due_work,
        stepper=stepper,
        health=HealthCheck(settings, loops, _carrier_health(carriers), read_models.positions),
        send_views=send_views,
        carrier=carrier,
        carriers=carriers,
        worker=worker,
        handover=handover,
        settlement=settlement,
        scheduler=scheduler,
        limits=limits,
        committer=committer,
        command_log=command_log,
        sheets=sheets,
        loops=loops,
        webhooks=webhooks,
        webhook_outbox=outbox,
        webhook_deliveries=DeliveryQueries(db),
        webhook_follower=outbox_follower,
        dispatcher=dispatcher,
        receivers=receivers,
    )


@dataclass(frozen=True)
class _WebhookWork:
    """What is due for webhooks now: the outbox takes in the logs, the dispatcher sends."""

    followers: tuple[LogFollower, ...]
    dispatcher: WebhookDispatcher

    def catch_up(self) -> int:
        return sum(f.catch_up() for f in self.followers) + self.dispatcher.catch_up()


@dataclass(frozen=True)
class _Tracked:
    """A handler's tracking row, created with the schema."""

    tracking: SqlTracking
    name: str
    application: str

    def create_tables(self) -> None:
        self.tracking.ensure(self.name, self.application)


def _operator_token(settings: Settings) -> str:
    if settings.operator_token:
        return settings.operator_token
    return secrets.token_urlsafe(24)  # `serve` prints it; the other commands serve no HTTP


def _kafka_publishers(
    settings: Settings, apps: list[Application[UUID]], tracking: SqlTracking
) -> list[BackgroundLoop]:
    """One publisher of each application's log to ``sms.events`` (connecting is theirs)."""
    if not settings.kafka_bootstrap:
        return []
    from ..adapters.kafka_bus import EventPublisher  # kafka only when set

    loops = []
    for app in apps:
        publisher = EventPublisher(settings.kafka_bootstrap, app, tracking)
        follower = LogFollower(app, publisher, batch_size=500)
        loops.append(
            BackgroundLoop(
                f"kafka-events-{app.name}",
                follower.run_once,
                KAFKA_IDLE_SECONDS,
                on_stop=publisher.close,
            )
        )
    return loops


def add_command_consumer(
    c: Container, handle: Callable[[Sequence[object]], Iterable[dict[str, Any]]]
) -> None:
    """Consume ``sms.commands`` with ``handle`` (the Kafka entry point, ``api/``), when
    Kafka is configured; the loop joins the Kafka group and health."""
    if not c.settings.kafka_bootstrap:
        return
    from ..adapters.kafka_bus import CommandConsumer  # kafka only when set

    consumer = CommandConsumer(c.settings.kafka_bootstrap, handle)
    loop = BackgroundLoop("kafka-commands", consumer.run_once, 0.0, on_stop=consumer.close)
    c.loops.kafka.insert(0, loop)


def _real_carriers(settings: Settings, journal: SmppJournal) -> CarrierRouter | None:
    """The carriers of ``SMS_CARRIERS`` (SMPP 3.4), or None for the simulated one."""
    entries = settings.carrier_entries()
    if not entries:
        return None
    return CarrierRouter([SmppCarrier(SmppEndpoint.parse(e), journal) for e in entries], journal)


def _carrier_health(carriers: CarrierRouter | None) -> Callable[[], dict[str, Any]]:
    def state() -> dict[str, Any]:
        if carriers is None:
            return {"status": "up", "name": "simulated"}
        each = carriers.health()
        usable = any(c["state"] in ("bound", "unbound") for c in each)
        return {"status": "up" if usable else "down", "carriers": each}

    return state


def _default_clock(settings: Settings, db: SqlDatabase) -> Clock:
    """The real clock; in simulation, the simulated one, resumed where it was left."""
    if not settings.simulation:
        return SystemClock()
    stored = StoredSimulatedTime(db)
    with schema_lock(settings):
        stored.create_tables()
    return SimulatedClock(stored.load(), on_move=stored.save)


def _wake(loops: list[BackgroundLoop]) -> None:
    for loop in loops:
        loop.wake()
